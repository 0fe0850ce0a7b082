// CLI: espruino-ota prune
import { prune } from "../prune.ts";
import { str, int, line, type Command } from "./types.ts";

export const pruneCommand: Command = {
  summary: "remove old releases, keeping the newest N and the live one",
  usage: "--root <dir> --project <name> --keep <N> [--dry-run]",
  options: { root: { type: "string" }, project: { type: "string" }, keep: { type: "string" }, "dry-run": { type: "boolean" } },
  required: ["root", "project", "keep"],
  async run(v, _p, io) {
    const r = await prune({ root: str(v, "root")!, project: str(v, "project")!, keep: int(v, "keep")!, dryRun: !!v["dry-run"] });
    const verb = v["dry-run"] ? "would remove" : "removed";
    line(io, `${verb}: ${r.removed.length ? r.removed.join(" ") : "nothing"}; kept: ${r.kept.join(" ") || "nothing"}`);
  },
};
