// Builds the device files from modules/*.ts, into modules/ (committed: what users download
// and what the CLI ships; a test proves they match the sources):
//   ota.min.js    the Espruino module, minified: the text the Web IDE and the espruino CLI
//                 bundle into an app that require()s it
//   ota.tok       the same, pretokenised (scripts/pretokenise.ts): what goes on a board as
//                 Storage file "ota", 13% smaller
//   boot.min.js   the boot stage; boot.tok, pretokenised, is what is stored as .boot0
//   count.min.js  the start counter, stored as .bootPowerOn (it has no token to shorten)
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
import { pretokenise } from "./pretokenise.ts";
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
  /** otaMin pretokenised, as stored in Storage file "ota" */
  otaTok: string;
  /** minified boot stage */
  boot: string;
  /** boot pretokenised, as stored in .boot0 */
  bootTok: string;
  /** minified start counter, as stored in .bootPowerOn */
  count: string;
}

async function es5(entry: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "ota-build-"));
  try {
    await build({
      entry: { out: join(MODULES, entry) },
      format: ["cjs"],
      target: "es5",
      outDir: out,
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

// An acorn node, and what the passes below walk: its child nodes, and whether it is a function.
type N = { type: string; start: number; end: number; [k: string]: any };
const kids = (n: N): N[] => Object.values(n).flatMap((v: any) => (Array.isArray(v) ? v : [v])).filter((c: any) => c && typeof c.type === "string");
const isFn = (n: N) => n.type === "FunctionDeclaration" || n.type === "FunctionExpression";

// A module-level `var` stays in RAM while the app runs (a name and a value, 2-3 JsVars
// on Espruino), but a literal inside a function costs nothing until that code runs.
// So the constants that formats.ts shares with the tools (UPPER_CASE vars holding a
// string or number literal, never assigned again) are put back in place of their names.
export function inlineConstants(code: string): string {
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

// Declares every function's variables once, at the top of its body, and leaves only the
// assignments where they were (`var a = 1, b;` becomes `a = 1;`, `for (var k in o)` becomes
// `for (k in o)`); a var statement that opens the body keeps its initialisers. JavaScript
// hoists declarations; Espruino does not (a `var` is made when its statement runs, and an
// assignment before it makes a global; seen on 2v29), and terser puts the variables of a
// function it inlines after the code that uses them.
export function hoistVars(code: string): string {
  const ast = parse(code, { ecmaVersion: 5 }) as unknown as N;
  const edits: { start: number; end: number; text: string }[] = [];
  const visitFunction = (fn: N) => {
    const names = new Set<string>();
    // A var statement that opens the body stays whole, and declares the others first: no
    // code runs before it, so nothing can use a name before its declaration.
    const first: N | undefined = fn.body.body[0]?.type === "VariableDeclaration" ? fn.body.body[0] : undefined;
    const walk = (n: N, parent: N) => {
      if (isFn(n)) return visitFunction(n);
      if (n === first) {
        (n.declarations as N[]).forEach((d) => d.init && walk(d.init, d));
        return;
      }
      if (n.type === "VariableDeclaration") {
        const decls = n.declarations as N[];
        for (const d of decls) names.add(d.id.name);
        const kept = decls.filter((d) => d.init);
        if (!kept.length) {
          const text = parent.type === "ForInStatement" && parent.left === n ? decls[0].id.name
            : parent.type === "ForStatement" && parent.init === n ? ""
            // a statement that declared only: nothing, unless a statement must stand there
            : parent.type === "BlockStatement" ? "" : ";";
          edits.push({ start: n.start, end: n.end, text });
          return;
        }
        // Cut around the initialisers, never through them: functions in them get edits of their own.
        edits.push({ start: n.start, end: kept[0].start, text: "" });
        for (let i = 1; i < kept.length; i++) edits.push({ start: kept[i - 1].end, end: kept[i].start, text: "," });
        edits.push({ start: kept[kept.length - 1].end, end: decls[decls.length - 1].end, text: "" });
        kept.forEach((d) => walk(d.init, d));
        return;
      }
      kids(n).forEach((c) => walk(c, n));
    };
    kids(fn.body).forEach((c) => walk(c, fn.body));
    if (first) for (const d of first.declarations as N[]) names.delete(d.id.name);
    if (!names.size) return;
    if (first) edits.push({ start: first.declarations[0].start, end: first.declarations[0].start, text: [...names].join(",") + "," });
    else edits.push({ start: fn.body.start + 1, end: fn.body.start + 1, text: "var " + [...names].join(",") + ";" });
  };
  const top = (n: N) => { if (isFn(n)) visitFunction(n); else kids(n).forEach(top); };
  top(ast);
  // from the end, so offsets stay valid; at one offset the removal before the insertion
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

// Moves each function of __update's top level that only one other function of that level
// uses into that one, as its first statement: it is then made when its user runs and is
// garbage when it returns, instead of alive for the whole update (each function costs 8
// JsVars and 1 per parameter on Espruino, seen on 2v29). The readable sources keep one
// function per job; step(), which runs for a moment between downloads, gets the helpers
// only it needs. Skipped when the user declares a name the function uses (it would see
// that one instead). Repeats until nothing moves: a helper's helper follows it.
export function nestSingleUse(code: string, container = "__update"): string {
  // names a function's own scope declares: its parameters, vars and function declarations
  const declared = (fn: N): Set<string> => {
    const out = new Set<string>(fn.params.map((p: N) => p.name));
    const walk = (n: N) => {
      if (n.type === "FunctionDeclaration") out.add(n.id.name);
      if (isFn(n)) return;
      if (n.type === "VariableDeclarator") out.add(n.id.name);
      kids(n).forEach(walk);
    };
    kids(fn.body).forEach(walk);
    return out;
  };
  // the names n uses that no function within n declares (property names are not names)
  const free = (n: N, out = new Set<string>(), bound: Set<string>[] = [], parent?: N): Set<string> => {
    if (n.type === "Identifier") {
      const prop = parent && !parent.computed && ((parent.type === "MemberExpression" && parent.property === n) || (parent.type === "Property" && parent.key === n));
      if (!prop && !bound.some((b) => b.has(n.name))) out.add(n.name);
    }
    const inner = isFn(n) ? [...bound, declared(n)] : bound;
    kids(n).forEach((c) => free(c, out, inner, n));
    return out;
  };
  for (;;) {
    const ast = parse(code, { ecmaVersion: 5 }) as unknown as N;
    const outer = (ast.body as N[]).find((n) => n.type === "FunctionDeclaration" && n.id.name === container);
    if (!outer) throw new Error(`nestSingleUse: no function ${container}`);
    const top = outer.body.body as N[];
    const fns = top.filter((n) => n.type === "FunctionDeclaration");
    let move: { fn: N; into: N } | undefined;
    for (const fn of fns) {
      const name = fn.id.name;
      // the top-level statements that use the name
      const users = top.filter((st) => st !== fn && free(st).has(name));
      if (users.length !== 1 || users[0].type !== "FunctionDeclaration") continue;
      const into = users[0];
      const theirs = declared(into);
      if (theirs.has(name) || [...free(fn)].some((n) => theirs.has(n))) continue;
      move = { fn, into };
      break;
    }
    if (!move) return code;
    const { fn, into } = move;
    const text = code.slice(fn.start, fn.end);
    const rest = code.slice(0, fn.start) + code.slice(fn.end);
    // just inside the user's "{", where it was before fn's text was cut out
    const at = into.body.start + 1 - (into.start > fn.start ? text.length : 0);
    code = rest.slice(0, at) + "\n" + text + "\n" + rest.slice(at);
  }
}

async function small(code: string, toplevel = true): Promise<string> {
  // toplevel: a module's top level is a function scope on Espruino, so its names can be
  // shortened too; a boot stage's is the global scope, which it must leave as it found it.
  // ascii_only: a byte such as "\xFF" must stay an escape, or an upload that re-encodes
  // the file as UTF-8 would change the string the device compares with.
  // max_line_len: an Error's stack quotes up to each frame's column of its line, so in a
  // one-line module every error held about 740 JsVars (15 KB of stack; seen on 2v29), and
  // about 40 with lines of 120 characters.
  // pure_getters: reading a property has no side effect in the device code (process.env
  // builds an object at each read, and is read once), so terser may inline a helper whose
  // arguments are property reads, such as formats.ts's URL helpers.
  const r = await minify(code, { ecma: 5, toplevel, compress: { passes: 2, pure_getters: true }, mangle: true, format: { ascii_only: true, max_line_len: 120 } });
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
  const face = inlineConstants(await es5("ota.ts"));
  const machine = inlineConstants(await es5("update.ts"));
  const ota = nestSingleUse(face + "\nfunction __update(opts, checkOnly, finish) {\n" + machine + "\n}\n");
  const otaMin = HEADER + (await small(ota));
  return { ota, otaMin, otaTok: pretokenise(otaMin), boot, bootTok: pretokenise(boot), count };
}

export async function writeModules(): Promise<BuiltModules> {
  const m = await buildModules();
  for (const [key, file] of Object.entries(DEVICE_FILES) as [keyof typeof DEVICE_FILES, string][]) writeFileSync(join(MODULES, file), m[key], "latin1");
  return m;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await writeModules();
  console.log(`modules/ota.min.js ${m.otaMin.length} B (ota.tok ${m.otaTok.length} B), boot.min.js ${m.boot.length} B (boot.tok ${m.bootTok.length} B), count.min.js ${m.count.length} B`);
}
