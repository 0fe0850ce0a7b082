// Builds the device modules from modules/*.ts:
//   modules/ota.js      readable ES5 Espruino module (exports.update = update ...)
//   modules/ota.min.js  the same, minified: what goes on a board as Storage file "ota"
// The boot stages (modules/boot.ts -> .boot0, modules/count.ts -> .bootPowerOn) are
// built first, minified, and compiled into ota.js as string constants, because
// update() writes them to Storage itself.
// Route known to load on Espruino: tsup (swc) at target es5, then terser --ecma 5.
import { build } from "tsup";
import { minify } from "terser";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const MODULES = join(ROOT, "modules");

export interface BuiltModules {
  /** readable module source */
  ota: string;
  /** minified module source */
  otaMin: string;
  /** minified boot stage, as stored in .boot0 */
  boot: string;
  /** minified start counter, as stored in .bootPowerOn */
  count: string;
}

async function es5(entry: string, define: Record<string, string> = {}): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "ota-build-"));
  try {
    await build({
      entry: { out: join(MODULES, entry) },
      format: ["cjs"],
      target: "es5",
      outDir: out,
      define,
      config: false,
      // Espruino built-ins, resolved on the board
      esbuildOptions(o) {
        o.external = ["Storage", "http", "crypto"];
      },
      // Espruino built-ins, resolved on the board
      external: ["Storage", "http", "crypto"],
      silent: true,
      sourcemap: false,
      splitting: false,
      treeshake: false,
      outExtension: () => ({ js: ".js" }),
    });
    // Espruino ignores the directive; it only costs bytes.
    return readFileSync(join(out, "out.js"), "utf8").replace(/^"use strict";\n/, "");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function small(code: string): Promise<string> {
  // toplevel: a module's and the boot stage's top level are function scopes on Espruino,
  // so their names can be shortened too.
  // ascii_only: a byte such as "\xFF" must stay an escape, or an upload that re-encodes
  // the file as UTF-8 would change the string the device compares with.
  const r = await minify(code, { ecma: 5, toplevel: true, compress: { passes: 2 }, mangle: true, format: { ascii_only: true } });
  if (!r.code) throw new Error("terser produced nothing");
  return r.code;
}

// One function expression, so that a boot stage leaves no globals behind. Wrapped after
// minifying: terser would otherwise inline the function into the (global) top level.
function stage(code: string): string {
  return "(function(){" + code + "})()";
}

export async function buildModules(): Promise<BuiltModules> {
  const boot = stage(await small(await es5("boot.ts")));
  const count = stage(await small(await es5("count.ts")));
  const ota = await es5("ota.ts", { __BOOT__: JSON.stringify(boot), __COUNT__: JSON.stringify(count) });
  return { ota, otaMin: await small(ota), boot, count };
}

export async function writeModules(): Promise<BuiltModules> {
  const m = await buildModules();
  writeFileSync(join(MODULES, "ota.js"), m.ota);
  writeFileSync(join(MODULES, "ota.min.js"), m.otaMin);
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await writeModules();
  console.log(`modules/ota.js ${m.ota.length} B, modules/ota.min.js ${m.otaMin.length} B, boot stage ${m.boot.length} B`);
}
