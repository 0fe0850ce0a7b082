// CLI: espruino-ota list
import { list } from "../list.ts";
import { str, line, JSON_OPTION, type Command } from "./types.ts";

export const listCommand: Command = {
  summary: "show the live version and the published releases",
  usage: "--root <dir> --project <name> [--json]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root the releases are published in" },
    project: { type: "string", placeholder: "<name>", help: "the project: a folder of the server root" },
    json: JSON_OPTION,
  },
  required: ["root", "project"],
  async run(v, _p, io) {
    const r = await list({ root: str(v, "root")!, project: str(v, "project")! });
    if (v.json) {
      line(io, JSON.stringify(r, null, 2));
      return;
    }
    line(io, `live: ${r.live ?? "(no version file)"}`);
    for (const x of r.versions) {
      const bytes = x.files.reduce((a, f) => a + f.size, 0);
      line(io, `${x.version === r.live ? "*" : " "} ${x.version}  ${x.layout}  ${x.published.toISOString()}  ${x.files.length} file(s), ${bytes} bytes${x.signed ? ", signed" : ""}`);
    }
    if (r.live !== undefined && !r.versions.some((x) => x.version === r.live)) line(io, `  (live version ${r.live} has no manifest)`);
    for (const s of r.skipped) line(io, `  skipped ${s.path}: ${s.reason}`);
  },
};
