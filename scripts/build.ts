// Builds the device files from modules/*.ts, into modules/ (committed: what users download
// and what the CLI ships; a test proves they match the sources):
//   ota.min.js    the Espruino module, minified: what goes on a board as Storage file "ota"
//   boot.min.js   the boot stage, stored as .boot0
//   count.min.js  the start counter, stored as .bootPowerOn
// The boot stages are built first and compiled into the module as string constants,
// because update() writes them to Storage itself. The readable ES5 module (`ota`) is
// built in memory only, for the checks in test/build.test.ts.
// Route known to load on Espruino: tsup (swc) at target es5, then terser --ecma 5.
import { build } from "tsup";
import { minify } from "terser";
import { parse } from "acorn";
import { crc32 } from "../tools/lib/digest.ts";
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

// A module-level `var` stays in RAM while the app runs (a name and a value, 2-3 JsVars
// on Espruino), but a literal inside a function costs nothing until that code runs.
// So the constants that formats.ts shares with the tools (UPPER_CASE vars holding a
// string or number literal, never assigned again) are put back in place of their names.
export function inlineConstants(code: string): string {
  type N = { type: string; start: number; end: number; [k: string]: any };
  const ast = parse(code, { ecmaVersion: 5 }) as unknown as N;
  const consts = new Map<string, { text: string; decl: N; stmt: N }>();
  for (const stmt of ast.body as N[]) {
    if (stmt.type !== "VariableDeclaration") continue;
    for (const d of stmt.declarations as N[]) {
      const lit = d.init && d.init.type === "Literal" && !d.init.regex && d.init;
      if (lit && /^[A-Z][A-Z0-9_]*$/.test(d.id.name)) consts.set(d.id.name, { text: code.slice(lit.start, lit.end), decl: d, stmt });
    }
  }
  const refs: N[] = [];
  const visit = (n: N, parent?: N) => {
    if (n.type === "Identifier" && consts.has(n.name)) {
      const declared = parent && ((parent.type === "VariableDeclarator" && parent.id === n) || /Function/.test(parent.type));
      const assigned = parent && parent.type === "AssignmentExpression" && parent.left === n;
      const property = parent && !parent.computed && ((parent.type === "MemberExpression" && parent.property === n) || (parent.type === "Property" && parent.key === n));
      if ((declared && parent!.id !== consts.get(n.name)!.decl.id) || assigned) consts.delete(n.name); // shadowed or changed: leave it
      else if (!declared && !property) refs.push(n);
    }
    for (const k of Object.keys(n)) {
      const v = n[k];
      if (Array.isArray(v)) v.forEach((c) => c && typeof c.type === "string" && visit(c, n));
      else if (v && typeof v.type === "string") visit(v, n);
    }
  };
  visit(ast);
  const edits: { start: number; end: number; text: string }[] = refs
    .filter((r) => consts.has(r.name))
    .map((r) => ({ start: r.start, end: r.end, text: consts.get(r.name)!.text }));
  // Drop the declarations: a whole statement when all its declarators go.
  const stmts = new Set([...consts.values()].map((c) => c.stmt));
  for (const stmt of stmts) {
    const keep = (stmt.declarations as N[]).filter((d) => !consts.has(d.id.name));
    edits.push({ start: stmt.start, end: stmt.end, text: keep.length ? "var " + keep.map((d) => code.slice(d.start, d.end)).join(", ") + ";" : "" });
  }
  edits.sort((a, b) => b.start - a.start);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out.replace(/^\n+/gm, (m) => (m.length > 1 ? "\n" : m));
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

// The first line of ota.min.js, in the style of Espruino's own modules: what it is, its
// license and where it comes from (for someone who finds it in a board's Storage or in a
// Web IDE module folder). It costs its bytes in Storage; the boot stages carry none. No
// "//" in it: EspruinoTools (core/modules.js) then adds a newline to the bundled module.
export const OTA_HEADER =
  "/* ota: over-the-air code updates for Espruino (ESP32, ESP8266) from any static web server. " +
  "Copyright (c) 2026 The espruino-ota authors, MIT License. www.npmjs.com/package/espruino-ota */\n";

export async function buildModules(): Promise<BuiltModules> {
  // The boot stages' top level is a function scope (stage()), freed once they ran.
  const boot = stage(await small(await es5("boot.ts")));
  const count = stage(await small(await es5("count.ts")));
  const crc = (code: string) => String(crc32(Buffer.from(code, "latin1")));
  const ota = inlineConstants(await es5("ota.ts", {
    __BOOT__: JSON.stringify(boot), __BOOT_CRC__: crc(boot),
    __COUNT__: JSON.stringify(count), __COUNT_CRC__: crc(count),
  }));
  return { ota, otaMin: OTA_HEADER + (await small(ota)), boot, count };
}

// The files writeModules() writes, with what each holds.
export const DEVICE_FILES = { "ota.min.js": "otaMin", "boot.min.js": "boot", "count.min.js": "count" } as const;

export async function writeModules(): Promise<BuiltModules> {
  const m = await buildModules();
  for (const [file, key] of Object.entries(DEVICE_FILES)) writeFileSync(join(MODULES, file), m[key]);
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await writeModules();
  console.log(`modules/ota.min.js ${m.otaMin.length} B, boot.min.js ${m.boot.length} B, count.min.js ${m.count.length} B`);
}
