// CLI: espruino-ota release
import { promises as fsp, statSync } from "node:fs";
import { release, parseFileSpec, type ReleaseProgress, type ReleaseResult } from "../release.ts";
import { releaseBundle, DEFAULT_BUNDLE_NAME } from "../release-bundle.ts";
import { storeOptionSpecs, recoverSpec, versionMaxAgeSpec, storeOptionsFrom, note, stderrIsTTY, recoveredNote } from "../lib/store-options.ts";
import { UsageError, str, line, printJson, type Command, type Io } from "./types.ts";

const BAR_MIN_BYTES = 256 * 1024; // smaller releases finish before a bar is worth drawing

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

// A progress bar on stderr, only when stderr is a terminal.
async function progressBar(io: Io, total: number): Promise<{ update(p: ReleaseProgress): void; stop(): void } | undefined> {
  if (!stderrIsTTY(io) || total < BAR_MIN_BYTES) return undefined;
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    { stream: io.stderr, format: " {bar} {percentage}% | {value}/{total} bytes | {file}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { file: "" });
  return {
    update: (p) => bar.update(p.doneBytes, { file: p.name }),
    stop: () => bar.stop(),
  };
}

function report(io: Io, r: ReleaseResult, json: boolean, extra?: object): void {
  const recovered = recoveredNote(r);
  if (recovered) note(io, recovered);
  if (json) {
    printJson(io, { ...extra, ...r });
    return;
  }
  const bytes = r.manifest.files.reduce((a, f) => a + f.size, 0);
  line(io, `released ${r.project} ${r.version} (${r.layout} layout${r.manifest.sig ? ", signed" : ""}): ${r.files.length} file(s), ${bytes} bytes, seq ${r.seq}; live now`);
  for (const f of r.manifest.files) line(io, `  ${f.name}  ${f.size}  sha256 ${f.sha256}`);
}

export const releaseCommand: Command = {
  summary: "publish a new version and make it live",
  usage:
    "--root <dir|s3://bucket/prefix> --project <name> --version <ver> [--layout prefix|subdir] [--key <file>] <[name=]file>...\n" +
    "       [--endpoint <url>] [--path-style] [--version-max-age <s>] [--recover] [--json]\n" +
    "       or, the whole app as one file built by the espruino CLI (offline, local board JSON):\n" +
    `       ... --bundle <main.js> [--as <name, default ${DEFAULT_BUNDLE_NAME}>] [--board ESP32|ESP8266_4MB|…] [--with-ota] [<[name=]file>...]\n` +
    `       (the ota module is not bundled: the board has it in Storage, from flash; --with-ota bundles it too)\n` +
    "       Order: the files, then the manifest, then version; a published version is never overwritten\n" +
    "       (s3://: a HEAD check, then PUT with If-None-Match: *, atomic where the store supports conditional writes).",
  options: {
    ...storeOptionSpecs,
    version: { type: "string", placeholder: "<ver>", help: "the new version: 1-64 of A-Z a-z 0-9 . _ + -, not starting with \".\"" },
    layout: { type: "string", placeholder: "prefix|subdir", help: "prefix: <project>/<ver>_<file>; subdir: <project>/<ver>/<file>", default: "prefix" },
    key: { type: "string", placeholder: "<file>", help: "sign the manifest (HMAC) with this file's bytes; boards with the same key install only signed releases", defaultText: "unsigned" },
    "version-max-age": versionMaxAgeSpec,
    recover: recoverSpec,
    bundle: { type: "string", placeholder: "<main.js>", help: "publish the app as one file bundled by the espruino CLI", defaultText: "no bundle" },
    as: { type: "string", placeholder: "<name>", help: "the bundle's Storage name", defaultText: DEFAULT_BUNDLE_NAME },
    board: { type: "string", placeholder: "<board>", help: "the board the bundle is for (its built-in modules are not bundled)", defaultText: "ESP32" },
    "with-ota": { type: "boolean", help: "bundle the ota module too", default: false },
  },
  required: ["root", "project", "version"],
  positionals: true,
  async run(v, files, io) {
    const entry = str(v, "bundle");
    const withOta = v["with-ota"] === true;
    if (entry === undefined && (str(v, "as") !== undefined || str(v, "board") !== undefined || withOta)) throw new UsageError("--as, --board and --with-ota go with --bundle <main.js>");
    if (entry === undefined && files.length == 0) throw new UsageError("give at least one file to release, or --bundle <main.js>");
    const specs = files.map((f) => parseFileSpec(f, isFile));
    let total = 0;
    for (const s of specs) if (isFile(s.path)) total += statSync(s.path).size;
    const keyFile = str(v, "key");
    // The key file's bytes are the key, exactly (a trailing newline is part of it).
    const key = keyFile !== undefined ? await fsp.readFile(keyFile) : undefined;
    const common = {
      root: str(v, "root")!, project: str(v, "project")!, version: str(v, "version")!,
      layout: str(v, "layout"), key, recover: v.recover === true, createRoot: false, ...storeOptionsFrom(v),
    };
    const json = v.json === true;
    if (entry !== undefined) {
      const r = await releaseBundle({ ...common, entry, as: str(v, "as"), board: str(v, "board"), withOta, files: specs });
      if (!json) line(io, `bundled ${entry}${r.bundle.modules.length ? ` with module(s) ${r.bundle.modules.join(", ")}` : ""} as "${r.bundle.name}" (${r.bundle.bytes} bytes)`);
      report(io, r, json);
      return;
    }
    const bar = await progressBar(io, total);
    let r;
    try {
      r = await release({ ...common, files: specs, onProgress: bar?.update });
    } finally {
      bar?.stop();
    }
    report(io, r, json);
  },
};
