// CLI: espruino-ota rollback
import { rollback } from "../rollback.ts";
import { str, line, type Command } from "./types.ts";

export const rollbackCommand: Command = {
  summary: "make an already published version live again",
  usage: "--root <dir> --project <name> --version <ver> [--layout prefix|subdir] [<name>...]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root the releases are published in" },
    project: { type: "string", placeholder: "<name>", help: "the project: a folder of the server root" },
    version: { type: "string", placeholder: "<ver>", help: "the published version to make live again" },
    layout: { type: "string", placeholder: "prefix|subdir", help: "the layout the version was published in", defaultText: "the one its manifest is found in, else prefix" },
  },
  required: ["root", "project", "version"],
  positionals: true, // file names to check when the release has no manifest
  async run(v, names, io) {
    const r = await rollback({
      root: str(v, "root")!, project: str(v, "project")!, version: str(v, "version")!,
      layout: str(v, "layout"), files: names.length ? names : undefined,
    });
    line(io, `${str(v, "project")} is now at ${r.version} (was ${r.previous ?? "nothing"}); ${r.files.length} file(s) checked`);
  },
};
