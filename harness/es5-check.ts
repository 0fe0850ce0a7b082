// Static checks for what an ES5 parser accepts but Espruino cannot run: missing
// built-ins, regex features its engine lacks, Node globals, and code that relies on
// hoisting (Espruino creates a function when its declaration executes, and a `var` when
// its statement runs: an assignment before it makes a global; both seen on 2v29).
import { parse, tokenizer } from "acorn";

type Node = { type: string; [k: string]: any };

// (Espruino has `global`.)
const MISSING_GLOBALS = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt",
  "Buffer", "globalThis", "setImmediate", "queueMicrotask", "__dirname", "__filename", "TextEncoder", "TextDecoder"];
const MISSING_MEMBERS: Record<string, string[]> = {
  Array: ["from", "of"],
  Promise: ["race", "allSettled", "any"],
  Number: ["isInteger", "isNaN", "EPSILON"],
  Math: ["trunc"],
  Object: ["freeze", "seal"],
  process: ["nextTick"],
};
// (String.prototype.lastIndexOf exists; Array.prototype.lastIndexOf does not, and the two
// cannot be told apart here: the real-interpreter tests cover it.)
const MISSING_METHODS = ["finally", "flat", "flatMap", "trimStart", "trimEnd", "matchAll"];

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (const k of Object.keys(n)) {
    const v = n[k];
    if (Array.isArray(v)) for (const c of v) { if (c && typeof c.type === "string") out.push(c); }
    else if (v && typeof v.type === "string") out.push(v);
  }
  return out;
}

// References to `name` in `n` that run when `n` runs (not inside a nested function).
function usesDirectly(n: Node, name: string): boolean {
  if (n.type === "Identifier") return n.name === name;
  if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration") return false;
  if (n.type === "MemberExpression" && !n.computed) return usesDirectly(n.object, name);
  if (n.type === "Property" && !n.computed) return usesDirectly(n.value, name);
  return children(n).some((c) => usesDirectly(c, name));
}

function checkHoisting(body: Node[], problems: string[]) {
  body.forEach((stmt, i) => {
    if (stmt.type !== "FunctionDeclaration") return;
    const name = stmt.id.name;
    if (body.slice(0, i).some((s) => usesDirectly(s, name))) problems.push(`hoisting: ${name} is used before its declaration runs`);
  });
}

// Identifiers of `var`s declared directly in a function body (not in nested functions).
function declaredVars(n: Node, out: Map<string, number>) {
  if (n.type === "VariableDeclarator" && n.id.type === "Identifier" && !out.has(n.id.name)) out.set(n.id.name, n.start);
  for (const c of children(n)) if (c.type !== "FunctionExpression" && c.type !== "FunctionDeclaration") declaredVars(c, out);
}

// A use of a function's own `var` before its declaration statement, in source order.
function checkVarHoisting(fn: Node, problems: string[]) {
  const vars = new Map<string, number>();
  declaredVars(fn.body, vars);
  const visit = (n: Node) => {
    if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration") return;
    if (n.type === "Identifier" && vars.has(n.name) && n.start < vars.get(n.name)!) problems.push(`hoisting: var ${n.name} is used before its declaration runs`);
    if (n.type === "MemberExpression" && !n.computed) return visit(n.object);
    if (n.type === "Property" && !n.computed) return visit(n.value);
    for (const c of children(n)) visit(c);
  };
  for (const c of children(fn.body)) visit(c);
}

// Espruino's lexer reads "/" as the start of a regex only after a keyword, a multi-character
// operator, or one of these; after a name, a number, a string, ")", "]", "|", "^", "~" or "."
// it is a division (src/jslex.c, jslGetNextToken, JSLJT_FORWARDSLASH; seen on 2v29:
// `for(k in o)/re/.test(k)` is a syntax error there).
const REGEX_AFTER = new Set(["!", "%", "&", "*", "+", "-", "/", "<", "=", ">", "?", "[", "{", "}", "(", ",", ";", ":", "=>"]);

function regexesEspruinoMisreads(src: string): string[] {
  const out: string[] = [];
  let prev: any = null;
  for (const t of tokenizer(src, { ecmaVersion: 5 })) {
    if (t.type.label === "regexp") {
      const p = prev ? String(prev.value ?? prev.type.label) : "";
      const ok = !prev || prev.type.keyword !== undefined || REGEX_AFTER.has(p) || (p.length > 1 && /^[=!<>&|+\-*%^]+$/.test(p));
      if (!ok) out.push(`regex after "${p}", where Espruino reads a division: ${src.slice(t.start, t.end)}`);
    }
    prev = t;
  }
  return out;
}

export function es5Problems(src: string): string[] {
  const problems: string[] = regexesEspruinoMisreads(src);
  const ast = parse(src, { ecmaVersion: 5, sourceType: "script" }) as unknown as Node;
  const visit = (n: Node) => {
    if (n.type === "Program" || n.type === "BlockStatement") checkHoisting(n.body, problems);
    if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration") checkVarHoisting(n, problems);
    if (n.type === "Identifier" && MISSING_GLOBALS.includes(n.name)) problems.push(`missing in Espruino: ${n.name}`);
    if (n.type === "MemberExpression" && !n.computed) {
      const obj = n.object.type === "Identifier" ? n.object.name : "";
      const prop = n.property.name;
      if (MISSING_MEMBERS[obj]?.includes(prop)) problems.push(`missing in Espruino: ${obj}.${prop}`);
      else if (MISSING_METHODS.includes(prop)) problems.push(`missing in Espruino: .${prop}`);
    }
    if (n.type === "Literal" && n.regex) {
      const p: string = n.regex.pattern;

      if (/\(\?[=!<]/.test(p)) problems.push(`regex lookaround: /${p}/`);
      if (/(^|[^\\])\{\d*,?\d*\}/.test(p)) problems.push(`regex {n} quantifier: /${p}/`);
      if (/[^gi]/.test(n.regex.flags)) problems.push(`regex flags other than g, i: /${p}/${n.regex.flags}`);
      // Seen on 2v29: /^https?:/ matches nothing, /^x(a|bc)$/ does not match "xbc".
      // (Outside character classes, where both are plain characters.)
      const outside = p.replace(/\\./g, "").replace(/\[[^\]]*\]/g, "");
      if (/(^|[^(])\?/.test(outside)) problems.push(`regex ? quantifier: /${p}/`);
      if (outside.includes("|")) problems.push(`regex alternation: /${p}/`);
    }
    for (const c of children(n)) visit(c);
  };
  visit(ast);
  return problems;
}
