// CLI: espruino-ota rollback
import { promises as fsp } from "node:fs";
import { rollback } from "../rollback.ts";
import { storeOptionSpecs, recoverSpec, versionMaxAgeSpec, storeOptionsFrom, note, recoveredNote } from "../lib/store-options.ts";
import { str, line, printJson, type Command } from "./types.ts";

export const rollbackCommand: Command = {
  summary: "make an already published version live again (re-signed with a new seq with --key)",
  usage:
    "--root <dir|s3://bucket/prefix> --project <name> --version <ver> [--layout prefix|subdir] [--key <file>] [<name>...]\n" +
    "       [--endpoint <url>] [--path-style] [--version-max-age <s>] [--recover] [--json]\n" +
    "       Checks that every file of the release is there first. Boards with a key refuse an older seq (EREJECTED):\n" +
    "       --key re-signs the release's manifest with a new seq, after checking it is signed with that key.",
  // The names of release's options, with what each means here (so not shared specs).
  options: {
    ...storeOptionSpecs,
    version: { type: "string", placeholder: "<ver>", help: "the published version to make live" },
    layout: { type: "string", placeholder: "prefix|subdir", help: "where to look for the release", defaultText: "the layout its manifest is in" },
    key: { type: "string", placeholder: "<file>", help: "re-sign the release's manifest with this key file's bytes and a new seq, so boards with the key take it", defaultText: "not re-signed" },
    "version-max-age": versionMaxAgeSpec,
    recover: recoverSpec,
  },
  required: ["root", "project", "version"],
  positionals: true, // file names to check when the release has no manifest
  async run(v, names, io) {
    const keyFile = str(v, "key");
    const r = await rollback({
      root: str(v, "root")!, project: str(v, "project")!, version: str(v, "version")!,
      layout: str(v, "layout"), files: names.length ? names : undefined, recover: v.recover === true,
      key: keyFile !== undefined ? await fsp.readFile(keyFile) : undefined, ...storeOptionsFrom(v),
    });
    const recovered = recoveredNote(r);
    if (recovered) note(io, recovered);
    if (r.warning) note(io, `warning: ${r.warning}`);
    if (v.json) return printJson(io, r);
    line(io, `${str(v, "project")} is now at ${r.version}${r.resigned ? `, re-signed with seq ${r.seq}` : ""} (was ${r.previous ?? "nothing"}); ${r.files.length} file(s) checked`);
  },
};
