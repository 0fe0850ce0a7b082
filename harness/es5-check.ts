// Static checks for what an ES5 parser accepts but Espruino cannot run: missing
// built-ins, regex features its engine lacks, Node globals, and calls that rely on
// function hoisting (Espruino creates a function when its declaration executes).
import { parse } from "acorn";

type Node = { type: string; [k: string]: any };

const MISSING_GLOBALS = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt",
  "Buffer", "global", "globalThis", "setImmediate", "queueMicrotask", "__dirname", "__filename", "TextEncoder", "TextDecoder"];
const MISSING_MEMBERS: Record<string, string[]> = {
  Array: ["from", "of"],
  Promise: ["race", "allSettled", "any"],
  Number: ["isInteger", "isNaN", "EPSILON"],
  Math: ["trunc"],
  Object: ["freeze", "seal"],
  process: ["nextTick"],
};
const MISSING_METHODS = ["finally", "flat", "flatMap", "trimStart", "trimEnd", "matchAll", "lastIndexOf"];

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

export function es5Problems(src: string): string[] {
  const problems: string[] = [];
  const ast = parse(src, { ecmaVersion: 5, sourceType: "script" }) as unknown as Node;
  const visit = (n: Node) => {
    if (n.type === "Program" || n.type === "BlockStatement") checkHoisting(n.body, problems);
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
    }
    for (const c of children(n)) visit(c);
  };
  visit(ast);
  return problems;
}
