// CLI: espruino-ota prune
import { prune } from "../prune.ts";
import { str, int, line, type Command } from "./types.ts";

export const pruneCommand: Command = {
  summary: "remove old releases, keeping the newest N and the live one",
  usage: "--root <dir> --project <name> --keep <N> [--dry-run]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root the releases are published in" },
    project: { type: "string", placeholder: "<name>", help: "the project: a folder of the server root" },
    keep: { type: "string", placeholder: "<N>", help: "how many of the newest releases to keep (the live one is always kept)" },
    "dry-run": { type: "boolean", help: "only say what would be removed" },
  },
  required: ["root", "project", "keep"],
  async run(v, _p, io) {
    const r = await prune({ root: str(v, "root")!, project: str(v, "project")!, keep: int(v, "keep")!, dryRun: !!v["dry-run"] });
    const verb = v["dry-run"] ? "would remove" : "removed";
    line(io, `${verb}: ${r.removed.length ? r.removed.join(" ") : "nothing"}; kept: ${r.kept.join(" ") || "nothing"}`);
  },
};
