// `release --bundle <main.js> [--as <name>]`: publishes a whole app as ONE self-contained
// Storage file (default ".bootcde"): the user's entry file with every module it
// require()s prepended as Modules.addCached(...), exactly what the `espruino` CLI would
// upload, built offline through tools/espruino-cli.ts with the local board JSON (which
// says which modules are built into the firmware and so are not bundled).
// The updater itself ("ota") is bundled too when the app requires it, so a release
// carries the updater that installs the next one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundle, MODULES_DIR, type BundleResult } from "./espruino-cli.ts";
import { release, type ReleaseFile, type ReleaseOptions, type ReleaseResult } from "./release.ts";

export const DEFAULT_BUNDLE_NAME = ".bootcde";

export interface BundleReleaseOptions extends Omit<ReleaseOptions, "files"> {
  entry: string; // the app's entry file, e.g. main.js
  as?: string; // Storage name of the bundle, default ".bootcde"
  board?: string; // board name or board JSON path for the espruino CLI, default "ESP32"
  modulesDirs?: string[]; // where require() finds modules; default: ours, <entry dir>/modules, <cwd>/modules
  files?: (ReleaseFile | string)[]; // more files to publish alongside the bundle
  timeout?: number; // ms for the espruino CLI
}

export interface BundleReleaseResult extends ReleaseResult {
  bundle: { name: string; bytes: number; modules: string[]; command: string[] };
}

export function defaultModulesDirs(entry: string, cwd = process.cwd()): string[] {
  const dirs = [MODULES_DIR, path.join(path.dirname(path.resolve(cwd, entry)), "modules"), path.join(cwd, "modules")];
  return dirs.filter((d, i) => dirs.indexOf(d) == i);
}

export async function releaseBundle(opts: BundleReleaseOptions): Promise<BundleReleaseResult> {
  const name = opts.as ?? DEFAULT_BUNDLE_NAME;
  const tmp = mkdtempSync(path.join(tmpdir(), "ota-bundle-"));
  try {
    let b: BundleResult;
    b = await bundle({
      board: opts.board ?? "ESP32",
      entry: opts.entry,
      out: path.join(tmp, "bundle.js"), // the CLI insists on .js
      modulesDirs: opts.modulesDirs ?? defaultModulesDirs(opts.entry),
      timeout: opts.timeout,
    });
    const { entry: _e, as: _a, board: _b, modulesDirs: _m, timeout: _t, files, ...rest } = opts;
    const r = await release({ ...rest, files: [{ name, path: b.out }, ...(files ?? [])] });
    return { ...r, bundle: { name, bytes: Buffer.byteLength(b.code, "latin1"), modules: b.modules, command: b.args } };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
