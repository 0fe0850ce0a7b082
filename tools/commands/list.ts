// CLI: espruino-ota list
import { list } from "../list.ts";
import { describeLock } from "../lib/store-lock.ts";
import { storeOptionSpecs, storeOptionsFrom } from "../lib/store-options.ts";
import { str, line, printJson, type Command } from "./types.ts";

export const listCommand: Command = {
  summary: "show the live version and the published releases",
  usage: "--root <dir|s3://bucket/prefix> --project <name> [--endpoint <url>] [--path-style] [--json]",
  options: { ...storeOptionSpecs },
  required: ["root", "project"],
  async run(v, _p, io) {
    const r = await list({ root: str(v, "root")!, project: str(v, "project")!, ...storeOptionsFrom(v) });
    if (v.json) return printJson(io, r);
    line(io, `live: ${r.live ?? "(no version file)"}`);
    for (const x of r.versions) {
      const bytes = x.files.reduce((a, f) => a + f.size, 0);
      line(io, `${x.version === r.live ? "*" : " "} ${x.version}  seq ${x.seq ?? "-"}  ${x.layout}  ${x.published.toISOString()}  ${x.files.length} file(s), ${bytes} bytes${x.signed ? ", signed" : ""}`);
    }
    if (r.live !== undefined && !r.versions.some((x) => x.version === r.live)) line(io, `  (live version ${r.live} has no manifest)`);
    for (const s of r.skipped) line(io, `  skipped ${s.path}: ${s.reason}`);
    if (r.lock) line(io, `  locked: ${r.lock == "unreadable" ? "an unreadable lock" : describeLock(r.lock)} (a command at work, or one that was killed: the next release, rollback or prune recovers it)`);
  },
};
