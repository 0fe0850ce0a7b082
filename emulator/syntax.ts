/**
 * Rejects syntax the Espruino parser lacks (§6 of the platform notes), so code that would be a
 * SyntaxError on a board is one here too, instead of silently running on V8.
 * Not covered: function hoisting, per-iteration `let` bindings and other runtime differences.
 */

import { parse } from 'acorn';

type Node = { type: string; start: number; [k: string]: unknown };

function problem(n: Node): string | undefined {
  switch (n.type) {
    case 'FunctionDeclaration': case 'FunctionExpression': case 'ArrowFunctionExpression':
      if (n.async) return 'async functions are not supported';
      if (n.generator) return 'generators are not supported';
      return undefined;
    case 'AwaitExpression': return "'await' is not supported";
    case 'YieldExpression': return "'yield' is not supported";
    case 'SpreadElement': case 'RestElement': return "'...' (spread/rest) is not supported";
    case 'ObjectPattern': case 'ArrayPattern': return 'destructuring is not supported';
    case 'AssignmentPattern': return 'default parameters are not supported';
    case 'ChainExpression': return "'?.' (optional chaining) is not supported";
    case 'BinaryExpression': return n.operator === '**' ? "'**' is not supported" : undefined;
    case 'AssignmentExpression':
      return ['**=', '&&=', '||=', '??='].includes(n.operator as string) ? `'${n.operator}' is not supported` : undefined;
    case 'LabeledStatement': return 'labels are not supported';
    case 'WithStatement': return "'with' is not supported";
    case 'ImportExpression': case 'ImportDeclaration': case 'ExportNamedDeclaration':
    case 'ExportDefaultDeclaration': case 'ExportAllDeclaration': case 'MetaProperty':
      return 'import/export are not supported';
    case 'TaggedTemplateExpression': return 'tagged templates are not supported';
    case 'PropertyDefinition': case 'PrivateIdentifier': case 'StaticBlock': return 'class fields are not supported';
    case 'Literal': {
      if (typeof n.bigint === 'string') return 'BigInt is not supported';
      const re = n.regex as { pattern: string } | undefined;
      if (re && /\(\?<?[=!]/.test(re.pattern)) return 'regex lookahead/lookbehind is not supported';
      if (re && /(^|[^\\])\{\d+(,\d*)?\}/.test(re.pattern)) return 'regex {n,m} quantifiers are not supported';
      return undefined;
    }
  }
  return undefined;
}

/**
 * Espruino's regex engine anchors a leading `^` over the whole alternation: /^a|b/ behaves as
 * /^(?:a|b)/ (probe 11). Returns the rewritten pattern, or undefined when not affected.
 */
export function espruinoRegexPattern(pattern: string): string | undefined {
  if (!pattern.startsWith('^')) return undefined;
  let depth = 0;
  let inClass = false;
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return '^(?:' + pattern.slice(1) + ')';
  }
  return undefined;
}

// prepareCode is a pure function of the source, and a board parses the same module and boot
// stage at every start: remember the last results (by the exact source text).
const PREPARED = new Map<string, { code: string; error?: string }>();
const PREPARED_MAX = 64;

/** Check the syntax and apply Espruino's regex quirk to regex literals. */
export function prepareCode(code: string): { code: string; error?: string } {
  let r = PREPARED.get(code);
  if (r) return { ...r };
  r = prepareUncached(code);
  if (PREPARED.size >= PREPARED_MAX) PREPARED.delete(PREPARED.keys().next().value!);
  PREPARED.set(code, r);
  return { ...r };
}

function prepareUncached(code: string): { code: string; error?: string } {
  const error = checkSyntax(code);
  if (error) return { code, error };
  const edits: { start: number; end: number; text: string }[] = [];
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true }) as unknown as Node;
  } catch {
    return { code };
  }
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) walk(x); return; }
    const node = n as Node & { end: number };
    if (node.type === 'Literal' && node.regex) {
      const re = node.regex as { pattern: string; flags: string };
      const p = espruinoRegexPattern(re.pattern);
      if (p) edits.push({ start: node.start, end: node.end, text: `/${p}/${re.flags}` });
    }
    for (const k of Object.keys(node)) if (k !== 'type' && k !== 'start' && k !== 'end') walk(node[k]);
  };
  walk(ast);
  let out = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { code: out };
}

/** Returns an error message for the first unsupported construct, or undefined. */
export function checkSyntax(code: string): string | undefined {
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true }) as unknown as Node;
  } catch (e) {
    return (e as Error).message;
  }
  let found: string | undefined;
  const walk = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) walk(x); return; }
    const node = n as Node;
    if (typeof node.type === 'string') {
      const p = problem(node);
      if (p) { found = `${p} at ${lineCol(code, node.start)}`; return; }
    }
    for (const k of Object.keys(node)) if (k !== 'type' && k !== 'start' && k !== 'end') walk(node[k]);
  };
  walk(ast);
  return found;
}

function lineCol(code: string, pos: number): string {
  const before = code.slice(0, pos).split('\n');
  return `line ${before.length} col ${before[before.length - 1].length + 1}`;
}
