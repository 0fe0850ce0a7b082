/**
 * The pass over code a board runs (one acorn parse per distinct source, cached):
 * - reads pretokenised code (tokens.ts) as the text it stands for;
 * - rejects syntax the Espruino parser lacks (§6 of the platform notes), so code that would be
 *   a SyntaxError on a board is one here too, instead of silently running on V8;
 * - applies Espruino's regex `^`-over-alternation quirk to regex literals;
 * - routes direct `eval(x)` through EVAL_HOOK and, for code from a Storage file, guards each
 *   function body with CODE_GUARD (stored-code.ts).
 * Not covered: function hoisting, per-iteration `let` bindings and other runtime differences.
 */

import { parse } from 'acorn';
import { untokenise } from './tokens.ts';

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

/** The global a guarded function body calls first: `__espruinoCodeAlive(<id>)` (stored-code.ts). */
export const CODE_GUARD = '__espruinoCodeAlive';
/** The global a direct `eval(x)` goes through: `eval(__espruinoEval(x))` (stored-code.ts). */
export const EVAL_HOOK = '__espruinoEval';

/** What closes at a position comes first, then statements, then what opens, then replacements. */
const enum Rank { Close, Statement, Open, Replace }

type Edit = { at: number; rank: Rank; seq: number } & (
  | { end: number; text: string } // replace [at, end) (an insert when end === at)
  | { guard: 'statement' | 'open' | 'close' } // a guard, inserted at `at` when the code is guarded
);

interface Analysis { error?: string; edits: Edit[] }

// The analysis is a pure function of the source, and a board parses the same module and boot
// stage at every start: remember the last results (by the exact source text, as stored: with
// `code`, the text it stands for when it is pretokenised).
const ANALYSED = new Map<string, Analysis & { code: string }>();
const ANALYSED_MAX = 64;

export interface PrepareOptions {
  /**
   * Guard every function body with `CODE_GUARD(guardId)`, so that calling a function defined
   * by this code throws once its Storage file is gone (stored-code.ts).
   */
  guardId?: number;
}

/**
 * The Espruino-fidelity pass over code loaded on a board: checks the syntax (an `error` for
 * the first construct Espruino lacks), applies its regex quirk to regex literals, routes
 * direct `eval(x)` through EVAL_HOOK and, with `guardId`, guards each function body.
 * Inserted text never contains a newline, so line numbers stay those of the source.
 */
export function prepareCode(stored: string, opts: PrepareOptions = {}): { code: string; error?: string } {
  let a = ANALYSED.get(stored);
  if (!a) {
    // pretokenised code (tokens.ts) runs as the text it stands for
    const code = untokenise(stored);
    a = { ...analyse(code), code };
    if (ANALYSED.size >= ANALYSED_MAX) ANALYSED.delete(ANALYSED.keys().next().value!);
    ANALYSED.set(stored, a);
  }
  if (a.error) return { code: a.code, error: a.error };
  return { code: render(a.code, a.edits, opts.guardId) };
}

function render(code: string, edits: Edit[], guardId: number | undefined): string {
  const guard = guardId === undefined ? undefined : `${CODE_GUARD}(${guardId})`;
  let out = '';
  let from = 0;
  for (const e of edits) {
    if ('text' in e) {
      out += code.slice(from, e.at) + e.text;
      from = e.end;
    } else if (guard) {
      out += code.slice(from, e.at) + (e.guard === 'statement' ? guard + ';' : e.guard === 'open' ? '(' + guard + ', ' : ')');
      from = e.at;
    }
  }
  return out + code.slice(from);
}

type FunctionNode = Node & { body: Node & { end: number; body?: Array<Node & { end: number; directive?: string }> }; expression?: boolean };

function analyse(code: string): Analysis {
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true }) as unknown as Node;
  } catch (e) {
    return { error: (e as Error).message, edits: [] };
  }
  let error: string | undefined;
  const edits: Edit[] = [];
  const replace = (at: number, end: number, text: string, rank = Rank.Replace) => edits.push({ at, end, text, rank, seq: edits.length });
  const guard = (at: number, kind: 'statement' | 'open' | 'close') =>
    edits.push({ at, guard: kind, rank: kind === 'close' ? Rank.Close : kind === 'open' ? Rank.Open : Rank.Statement, seq: edits.length });
  const walk = (n: unknown): void => {
    if (error || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) walk(x); return; }
    const node = n as Node & { end: number };
    if (typeof node.type !== 'string') return;
    const p = problem(node);
    if (p) { error = `${p} at ${lineCol(code, node.start)}`; return; }
    if (node.type === 'Literal' && node.regex) {
      const re = node.regex as { pattern: string; flags: string };
      const q = espruinoRegexPattern(re.pattern);
      if (q) replace(node.start, node.end, `/${q}/${re.flags}`);
    } else if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') {
      const f = node as unknown as FunctionNode;
      if (f.body.type === 'BlockStatement') {
        // after the directive prologue ("use strict"), which must stay first to count
        let at = f.body.start + 1;
        for (const st of f.body.body ?? []) { if (st.directive === undefined) break; at = st.end; }
        guard(at, 'statement');
      } else {
        guard(f.body.start, 'open');
        guard(f.body.end, 'close');
      }
    } else if (node.type === 'CallExpression') {
      const call = node as unknown as { callee: Node & { name?: string }; arguments: Array<Node & { end: number }> };
      const arg = call.arguments[0];
      if (call.callee.type === 'Identifier' && call.callee.name === 'eval' && arg) {
        replace(arg.start, arg.start, EVAL_HOOK + '(', Rank.Open);
        replace(arg.end, arg.end, ')', Rank.Close);
      }
    }
    for (const k of Object.keys(node)) if (k !== 'type' && k !== 'start' && k !== 'end') walk(node[k]);
  };
  walk(ast);
  if (error) return { error, edits: [] };
  // in source order; at one position by rank; what closes there, inner (walked later) first
  edits.sort((x, y) => x.at - y.at || x.rank - y.rank || (x.rank === Rank.Close ? y.seq - x.seq : x.seq - y.seq));
  return { edits };
}

function lineCol(code: string, pos: number): string {
  const before = code.slice(0, pos).split('\n');
  return `line ${before.length} col ${before[before.length - 1].length + 1}`;
}
