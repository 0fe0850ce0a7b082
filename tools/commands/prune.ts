// CLI: espruino-ota prune
import { prune } from "../prune.ts";
import { storeOptionSpecs, recoverSpec, storeOptionsFrom, note, recoveredNote } from "../lib/store-options.ts";
import { str, int, line, printJson, type Command } from "./types.ts";

export const pruneCommand: Command = {
  summary: "remove old releases, keeping the newest N, the newest one and the live one",
  usage: "--root <dir|s3://bucket/prefix> --project <name> --keep <N> [--dry-run] [--endpoint <url>] [--path-style] [--recover] [--json]",
  options: {
    ...storeOptionSpecs,
    keep: { type: "string", placeholder: "<N>", help: "how many of the newest releases to keep; the live one and the newest (highest seq) are always kept" },
    "dry-run": { type: "boolean", help: "only say what would be removed", default: false },
    recover: recoverSpec,
  },
  required: ["root", "project", "keep"],
  async run(v, _p, io) {
    const r = await prune({
      root: str(v, "root")!, project: str(v, "project")!, keep: int(v, "keep")!, dryRun: v["dry-run"] === true,
      recover: v.recover === true, ...storeOptionsFrom(v),
    });
    const recovered = recoveredNote(r);
    if (recovered) note(io, recovered);
    for (const s of r.skipped) note(io, `skipped ${s.path}: ${s.reason}`);
    if (v.json) return printJson(io, { dryRun: v["dry-run"] === true, ...r });
    const verb = v["dry-run"] ? "would remove" : "removed";
    line(io, `${verb}: ${r.removed.length ? r.removed.join(" ") : "nothing"}; kept: ${r.kept.join(" ") || "nothing"}`);
  },
};
