// CLI: espruino-ota release
import { promises as fsp, statSync } from "node:fs";
import { release, parseFileSpec, type ReleaseProgress } from "../release.ts";
import { releaseBundle, DEFAULT_BUNDLE_NAME } from "../release-bundle.ts";
import { UsageError, str, line, type Command, type Io } from "./types.ts";

const BAR_MIN_BYTES = 256 * 1024; // smaller releases finish before a bar is worth drawing

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

async function progressBar(io: Io, total: number): Promise<{ update(p: ReleaseProgress): void; stop(): void } | undefined> {
  if (!io.stdout.isTTY || total < BAR_MIN_BYTES) return undefined;
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    { stream: io.stdout as NodeJS.WritableStream, format: " {bar} {percentage}% | {value}/{total} bytes | {file}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { file: "" });
  return {
    update: (p) => bar.update(p.doneBytes, { file: p.name }),
    stop: () => bar.stop(),
  };
}

export const releaseCommand: Command = {
  summary: "publish a new version and make it live",
  usage:
    "--root <dir> --project <name> --version <ver> [--layout prefix|subdir] [--key <file>] <[name=]file>...\n" +
    "       or, the whole app as one file built by the espruino CLI (offline, local board JSON):\n" +
    `       ... --bundle <main.js> [--as <name, default ${DEFAULT_BUNDLE_NAME}>] [--board ESP32|ESP8266_4MB|…] [--with-ota] [<[name=]file>...]\n` +
    `       (the ota module is not bundled: the board has it in Storage, from flash; --with-ota bundles it too)`,
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root the releases are published in" },
    project: { type: "string", placeholder: "<name>", help: "the project: a folder of the server root" },
    version: { type: "string", placeholder: "<ver>", help: "the new version (A-Z a-z 0-9 . _ + -, at most 64 characters)" },
    layout: { type: "string", placeholder: "prefix|subdir", help: "<ver>_<file> or <ver>/<file> on the server", defaultText: "prefix" },
    key: { type: "string", placeholder: "<file>", help: "sign the manifest with this file's bytes as the HMAC key" },
    bundle: { type: "string", placeholder: "<main.js>", help: "publish this app and the modules it requires as one file, bundled by the espruino CLI" },
    as: { type: "string", placeholder: "<name>", help: "Storage name of the bundle", defaultText: DEFAULT_BUNDLE_NAME },
    board: { type: "string", placeholder: "<board>", help: "the board the bundle is for: which modules are built in", defaultText: "ESP32" },
    "with-ota": { type: "boolean", help: "bundle the ota module too (the board has it in Storage otherwise)" },
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
    if (entry !== undefined) {
      const r = await releaseBundle({
        root: str(v, "root")!, project: str(v, "project")!, version: str(v, "version")!,
        layout: str(v, "layout"), key, entry, as: str(v, "as"), board: str(v, "board"), withOta, files: specs,
      });
      const bytes = r.manifest.files.reduce((a, f) => a + f.size, 0);
      line(io, `bundled ${entry}${r.bundle.modules.length ? ` with module(s) ${r.bundle.modules.join(", ")}` : ""} as "${r.bundle.name}" (${r.bundle.bytes} bytes)`);
      line(io, `released ${r.project} ${r.version} (${r.layout} layout${r.manifest.sig ? ", signed" : ""}): ${r.files.length} file(s), ${bytes} bytes; live now`);
      for (const f of r.manifest.files) line(io, `  ${f.name}  ${f.size}  sha256 ${f.sha256}`);
      return;
    }
    const bar = await progressBar(io, total);
    let r;
    try {
      r = await release({
        root: str(v, "root")!, project: str(v, "project")!, version: str(v, "version")!,
        layout: str(v, "layout"), key, files: specs, onProgress: bar?.update,
      });
    } finally {
      bar?.stop();
    }
    const bytes = r.manifest.files.reduce((a, f) => a + f.size, 0);
    line(io, `released ${r.project} ${r.version} (${r.layout} layout${r.manifest.sig ? ", signed" : ""}): ${r.files.length} file(s), ${bytes} bytes; live now`);
    for (const f of r.manifest.files) line(io, `  ${f.name}  ${f.size}  sha256 ${f.sha256}`);
  },
};
