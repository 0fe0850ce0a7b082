// Where the CLI finds the files it ships with: the device files (modules/*.min.js) and the
// board descriptions (boards/*.json), read in place and never written. The same code runs
// from the TypeScript sources (tools/, through tsx) and from the built CLI (dist/, what npm
// installs), so the package root is found by walking up to our package.json rather than
// by a fixed depth.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { E_MISSING } from "../modules/formats.ts";
import { fail } from "./lib/errors.ts";

export const PACKAGE_NAME = "espruino-ota";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pj = join(dir, "package.json");
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: no package.json of ${PACKAGE_NAME} above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const MODULES_DIR = join(PACKAGE_ROOT, "modules");
export const BOARDS_DIR = join(PACKAGE_ROOT, "boards");

/** The package's version, for `espruino-ota --version`. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

// The committed build outputs of scripts/build.ts (its DEVICE_FILES; test/package.test.ts
// proves the two lists agree). Named here because the shipped CLI must not load the build,
// which needs the TypeScript toolchain. The .tok files are what a board stores (binary:
// Espruino's pretokenised code); the .min.js files are the same code as text.
export const DEVICE_FILES = {
  otaMin: "ota.min.js", otaTok: "ota.tok", boot: "boot.min.js", bootTok: "boot.tok", count: "count.min.js",
} as const;

export type DeviceFiles = Record<keyof typeof DEVICE_FILES, string>;

/** The device files as shipped (one char per byte): the module, the boot stage, the start counter. */
export function readDeviceFiles(): DeviceFiles {
  const out = {} as DeviceFiles;
  for (const [key, file] of Object.entries(DEVICE_FILES) as [keyof DeviceFiles, string][]) {
    const p = join(MODULES_DIR, file);
    if (!existsSync(p)) fail(E_MISSING, `${p} is missing: in a clone of the repository, npm run build makes it`);
    out[key] = readFileSync(p, "latin1");
  }
  return out;
}
