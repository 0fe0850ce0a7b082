// The `ota` module on real-interpreter boards (harness/real-board.ts): the files a flash
// puts in Storage, an app that updates at boot and marks what it does, and a probe that
// marks which release a start runs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuiltModules } from "../scripts/build.ts";
import { readDeviceFiles } from "../tools/package-files.ts";
import { flashFiles } from "../tools/flash.ts";
import { MARK_FN } from "./real-board.ts";
import { crc32 } from "../tools/lib/digest.ts";

/** The device code a board gets: the built module and its boot stages. */
export type DeviceCode = Pick<BuiltModules, "otaMin" | "otaTok" | "boot" | "bootTok" | "count">;

/** The committed builds in modules/ (test/build.test.ts proves they match the sources). */
export function committedModules(): DeviceCode {
  return readDeviceFiles();
}

/** The updater's files as `npm run flash` writes them (tools/flash.ts decides which), without an app. */
export function flashedFiles(m: DeviceCode): Record<string, Buffer> {
  return Object.fromEntries(flashFiles({ board: "LINUX" }, m).map((f) => [f.name, f.data]));
}

export interface AppOptions {
  /** after update() says {updated: true}, block this many ms (so a power cut can land
   *  after the journal is written and before the module's reset) */
  holdAfterUpdated?: number;
  /** pad `main` to about this many bytes, so that its download takes many chunks */
  mainBytes?: number;
  /** mark each onProgress call as "progress" [file, done, total] */
  progress?: boolean;
}

/**
 * A release of the sample app for real boards: `.bootcde` updates at every boot (as in the
 * README), marks "boot" <version> and "update" (the error's code and message, or the
 * result); if nothing was installed it starts `main` (which marks "main" <version>) and
 * confirms it.
 */
export function realApp(version: string, opts: object, app: AppOptions = {}): Record<string, string> {
  const hold = app.holdAfterUpdated ? `var t = getTime(); while (getTime() - t < ${app.holdAfterUpdated / 1000});` : "";
  const progress = app.progress ? `o.onProgress = function (f, d, n) { mark("progress", [f, d, n]); };` : "";
  const pad = app.mainBytes ? "\n// " + "0123456789abcdef".repeat(Math.ceil(app.mainBytes / 16)).slice(0, app.mainBytes) + "\n" : "";
  return {
    ".bootcde":
      `${MARK_FN}\nmark("boot", ${JSON.stringify(version)});\nvar o = ${JSON.stringify(opts)};\n${progress}\n` +
      `require("ota").update(o, function (e, r) {\n` +
      `  mark("update", e ? {code: e.code, message: e.message} : r);\n` +
      `  if (!e && r.updated) { ${hold} return; }\n` +
      `  require("main").start();\n  require("ota").confirm();\n});\n`,
    main: `exports.start = function () { mark("main", ${JSON.stringify(version)}); };${pad}`,
  };
}

/** Device code that marks "files": [length, CRC-32] of each named Storage file (null if missing). */
export function filesProbe(names: string[]): string {
  return `mark("files", ${JSON.stringify(names)}.map(function (n) { var d = require("Storage").read(n); return d === undefined ? null : [d.length, E.CRC32(d) >>> 0]; }));`;
}

/** What filesProbe marks for these contents. */
export function fileDigests(files: Record<string, string | Buffer>, names: string[]): ([number, number] | null)[] {
  return names.map((n) => {
    const d = files[n];
    if (d === undefined) return null;
    const b = typeof d == "string" ? Buffer.from(d, "latin1") : d;
    return [b.length, crc32(b) >>> 0];
  });
}
