// Builds the device files from modules/*.ts, into modules/ (committed: what users download
// and what the CLI ships; a test proves they match the sources):
//   ota.min.js    the Espruino module, minified: what goes on a board as Storage file "ota"
//   boot.min.js   the boot stage, stored as .boot0
//   count.min.js  the start counter, stored as .bootPowerOn
// The module is two parts: modules/ota.ts, what require("ota") keeps while the app runs,
// and modules/update.ts, the update machinery, compiled inside one function (__update) that
// the first calls for each update() or check(); so the machinery holds no RAM between runs
// (its top-level variables are that run's state). The boot stages are files of their own,
// stored once (npm run flash writes them). The readable ES5 module (`ota`) is built in
// memory only, for test/build.test.ts.
// Route known to load on Espruino: tsup (swc) at target es5, then terser --ecma 5.
import { build } from "tsup";
import { minify } from "terser";
import { parse } from "acorn";
import { crc32 } from "../tools/lib/digest.ts";
import { room } from "../modules/formats.ts";
import { DEVICE_FILES } from "../tools/package-files.ts";
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
      // A regex literal too: evaluated where it is used, it lives only while that code runs.
      const lit = d.init && d.init.type === "Literal" && d.init;
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

// Declares every function's variables once, at the top of its body, and drops the `var`
// keyword where they were (`var a = 1, b;` becomes the expression `a = 1, b;`). JavaScript
// hoists declarations; Espruino does not (a `var` is made when its statement runs, and an
// assignment before it makes a global; seen on 2v29), and terser puts the variables of a
// function it inlines after the code that uses them.
export function hoistVars(code: string): string {
  type N = { type: string; start: number; end: number; [k: string]: any };
  const ast = parse(code, { ecmaVersion: 5 }) as unknown as N;
  const edits: { start: number; end: number; text: string }[] = [];
  const kids = (n: N): N[] => Object.values(n).flatMap((v: any) => (Array.isArray(v) ? v : [v])).filter((c: any) => c && typeof c.type === "string");
  const visitFunction = (fn: N) => {
    const names = new Set<string>();
    const walk = (n: N) => {
      if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") return visitFunction(n);
      if (n.type === "VariableDeclaration") {
        for (const d of n.declarations as N[]) names.add(d.id.name);
        edits.push({ start: n.start, end: n.declarations[0].start, text: "" });
      }
      kids(n).forEach(walk);
    };
    kids(fn.body).forEach(walk);
    if (names.size) edits.push({ start: fn.body.start + 1, end: fn.body.start + 1, text: "var " + [...names].join(",") + ";" });
  };
  const top = (n: N) => { if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") visitFunction(n); else kids(n).forEach(top); };
  top(ast);
  // from the end, so offsets stay valid; at one offset the removal before the insertion
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

async function small(code: string, toplevel = true): Promise<string> {
  // toplevel: a module's top level is a function scope on Espruino, so its names can be
  // shortened too; a boot stage's is the global scope, which it must leave as it found it.
  // ascii_only: a byte such as "\xFF" must stay an escape, or an upload that re-encodes
  // the file as UTF-8 would change the string the device compares with.
  // max_line_len: an Error's stack quotes up to each frame's column of its line, so in a
  // one-line module every error held about 740 JsVars (15 KB of stack; seen on 2v29), and
  // about 40 with lines of 120 characters.
  const r = await minify(code, { ecma: 5, toplevel, compress: { passes: 2 }, mangle: true, format: { ascii_only: true, max_line_len: 120 } });
  if (!r.code) throw new Error("terser produced nothing");
  return hoistVars(r.code);
}

// The module's first line, in the manner of Espruino's own modules. Without "//": the
// espruino CLI adds a newline to a bundled module whose text holds one.
const HEADER = "/* ota: over-the-air code updates for Espruino from a static web server. MIT License. npmjs.com/package/espruino-ota */\n";

export async function buildModules(): Promise<BuiltModules> {
  // Each boot stage is one expression whose scope is its own (see modules/boot.ts).
  const boot = await small(inlineConstants(await es5("boot.ts")), false);
  const count = await small(inlineConstants(await es5("count.ts")), false);
  const crc = (code: string) => String(crc32(Buffer.from(code, "latin1")));
  const face = inlineConstants(await es5("ota.ts"));
  const machine = inlineConstants(await es5("update.ts", {
    __BOOT__: JSON.stringify(boot), __BOOT_CRC__: crc(boot),
    __COUNT__: JSON.stringify(count), __COUNT_CRC__: crc(count),
    __BOOT_ROOM__: String(room(boot.length) + room(count.length)),
  }));
  const ota = face + "\nfunction __update(opts, checkOnly, finish) {\n" + machine + "\n}\n";
  return { ota, otaMin: HEADER + (await small(ota)), boot, count };
}

export async function writeModules(): Promise<BuiltModules> {
  const m = await buildModules();
  for (const [key, file] of Object.entries(DEVICE_FILES) as [keyof typeof DEVICE_FILES, string][]) writeFileSync(join(MODULES, file), m[key]);
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await writeModules();
  console.log(`modules/ota.min.js ${m.otaMin.length} B, boot.min.js ${m.boot.length} B, count.min.js ${m.count.length} B`);
}
