// `release --bundle <main.js> [--as <name>]`: publishes a whole app as ONE self-contained
// Storage file (default ".bootcde"): the user's entry file with every module it
// require()s prepended as Modules.addCached(...), exactly what the `espruino` CLI would
// upload, built offline through tools/espruino-cli.ts with the local board JSON (which
// says which modules are built into the firmware and so are not bundled).
// The updater itself ("ota") is NOT bundled: `flash` installs it on the board as Storage
// module "ota" (which a copy inside the app would shadow), and at about 10 KB it would not
// fit twice on an ESP8266. It counts as built in, like Storage or http. withOta (--with-ota)
// bundles it anyway, for an app that should carry the updater that installs the next one.
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
  withOta?: boolean; // bundle our "ota" module too (default false: the board has it in Storage)
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
    const b: BundleResult = await bundle({
      board: opts.board ?? "ESP32",
      entry: opts.entry,
      out: path.join(tmp, "bundle.js"), // the CLI insists on .js
      modulesDirs: opts.modulesDirs ?? defaultModulesDirs(opts.entry),
      timeout: opts.timeout,
      builtin: opts.withOta ? [] : ["ota"],
    });
    const { entry: _e, as: _a, board: _b, modulesDirs: _m, timeout: _t, withOta: _w, files, ...rest } = opts;
    const r = await release({ ...rest, files: [{ name, path: b.out }, ...(files ?? [])] });
    return { ...r, bundle: { name, bytes: Buffer.byteLength(b.code, "latin1"), modules: b.modules, command: b.args } };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
