/**
 * Espruino's JSON, where it differs from V8's:
 * - `Storage.writeJSON` output: unquoted identifier keys, `\xXX` escapes (jsfGetJSONWithCallback
 *   without JSON_JSON_COMPATIBILE);
 * - the reader behind `JSON.parse` and `Storage.readJSON` (`jswrap_json_parse_internal`): it runs
 *   on the JS lexer, so single quotes, `\x` escapes, comments, hex numbers and trailing commas
 *   pass, and it stops after one value (trailing text, `\xFF` padding included, is ignored);
 *   readJSON is the liberal variant that also takes unquoted keys. Error texts and the lone `-`
 *   (no value, no error) follow golden probes 14 and 59. A duplicate key keeps its first value
 *   (the firmware keeps both properties, and reads find the first; V8 objects cannot hold two,
 *   probe 60).
 * Values are walked with realm-neutral checks so objects from a vm context work too.
 */

import { StorageError } from './flash-memory.ts';

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function hex2(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
}

/** escapeCharacter() in jsutils.c, non-JSON style. */
export function escapeString(s: string, jsonStyle = false): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i) & 0xff;
    const next = s.charCodeAt(i + 1);
    switch (ch) {
      case 8: out += '\\b'; continue;
      case 9: out += '\\t'; continue;
      case 10: out += '\\n'; continue;
      case 11: if (!jsonStyle) { out += '\\v'; continue; } break;
      case 12: out += '\\f'; continue;
      case 13: out += '\\r'; continue;
      case 0x5c: out += '\\\\'; continue;
      case 0x22: out += '\\"'; continue;
    }
    if (ch < 3 && !jsonStyle && !(next >= 0x30 && next <= 0x39)) out += '\\' + ch;
    else if (ch < 32 || ch >= 127) out += jsonStyle ? '\\u00' + hex2(ch) : '\\x' + hex2(ch);
    else out += String.fromCharCode(ch);
  }
  return out + '"';
}

const isView = (v: unknown): v is ArrayBufferView => ArrayBuffer.isView(v as object);
const tag = (v: unknown) => Object.prototype.toString.call(v);

/** Storage.writeJSON text. */
export function stringifyCompact(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function') return undefined;
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string') return escapeString(v);
  if (Array.isArray(v) || isView(v)) {
    const a = v as ArrayLike<unknown>;
    const parts: string[] = [];
    for (let i = 0; i < a.length; i++) parts.push(stringifyCompact(a[i]) ?? 'null');
    return '[' + parts.join(',') + ']';
  }
  if (tag(v) === '[object ArrayBuffer]') return stringifyCompact(new Uint8Array(v as ArrayBuffer));
  const o = v as Record<string, unknown>;
  if (typeof o.toJSON === 'function') return stringifyCompact(o.toJSON());
  const parts: string[] = [];
  for (const k of Object.keys(o)) {
    const s = stringifyCompact(o[k]);
    if (s === undefined) continue;
    parts.push((IDENT.test(k) ? k : escapeString(k)) + ':' + s);
  }
  return '{' + parts.join(',') + '}';
}

// ------------------------------------------------------------------ the reader

type Tok =
  | { t: 'ID'; v: string }
  | { t: 'WORD'; v: string } // a reserved word: true, null, undefined, function...
  | { t: 'STR'; v: string }
  | { t: 'UNFINISHED' }
  | { t: 'NUM'; v: number; float: boolean }
  | { t: 'CH'; v: string }
  | { t: 'EOF' };

/** Reserved words of Espruino's lexer (jslex.c): their token text is the word itself. */
const RESERVED = new Set(['if', 'else', 'do', 'while', 'for', 'break', 'continue', 'function', 'return', 'var', 'let',
  'const', 'this', 'throw', 'try', 'catch', 'finally', 'true', 'false', 'null', 'undefined', 'new', 'in', 'instanceof',
  'switch', 'case', 'default', 'delete', 'typeof', 'void', 'debugger', 'class', 'extends', 'super', 'static', 'of']);

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' };

class Lexer {
  pos = 0;
  tok: Tok = { t: 'EOF' };
  constructor(private readonly s: string) { this.next(); }

  next(): void {
    const s = this.s;
    for (;;) {
      while (this.pos < s.length && /\s/.test(s[this.pos])) this.pos++;
      if (s.startsWith('//', this.pos)) { while (this.pos < s.length && s[this.pos] !== '\n') this.pos++; continue; }
      if (s.startsWith('/*', this.pos)) { const e = s.indexOf('*/', this.pos + 2); this.pos = e < 0 ? s.length : e + 2; continue; }
      break;
    }
    if (this.pos >= s.length) { this.tok = { t: 'EOF' }; return; }
    const c = s[this.pos];
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z0-9_$]+/.exec(s.slice(this.pos))![0];
      this.pos += m.length;
      this.tok = RESERVED.has(m) ? { t: 'WORD', v: m } : { t: 'ID', v: m };
      return;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[this.pos + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?)/.exec(s.slice(this.pos))![0];
      this.pos += m.length;
      this.tok = { t: 'NUM', v: Number(m), float: /[.eE]/.test(m) && !/^0[xX]/.test(m) };
      return;
    }
    if (c === '"' || c === "'") {
      let out = '';
      let i = this.pos + 1;
      while (i < s.length && s[i] !== c) {
        if (s[i] === '\\' && i + 1 < s.length) {
          const e = s[++i];
          if (e === 'x') { out += String.fromCharCode(parseInt(s.substr(i + 1, 2), 16)); i += 3; continue; }
          if (e === 'u') { out += String.fromCharCode(parseInt(s.substr(i + 1, 4), 16)); i += 5; continue; }
          out += SIMPLE_ESCAPES[e] ?? e;
          i++;
          continue;
        }
        out += s[i++];
      }
      if (i >= s.length) { this.pos = s.length; this.tok = { t: 'UNFINISHED' }; return; }
      this.pos = i + 1;
      this.tok = { t: 'STR', v: out };
      return;
    }
    this.pos++;
    this.tok = { t: 'CH', v: c };
  }
}

/** jslTokenAsString: the kind of token ("Expecting valid value, got ID"). */
function kind(t: Tok): string {
  switch (t.t) {
    case 'ID': return 'ID';
    case 'WORD': return t.v;
    case 'STR': return 'STRING';
    case 'UNFINISHED': return 'UNFINISHED STRING';
    case 'NUM': return t.float ? 'FLOAT' : 'INT';
    case 'CH': return "'" + t.v + "'";
    case 'EOF': return 'EOF';
  }
}

/** jslGetTokenString: the token with its text ("Got ID:a expected STRING"). */
function describe(t: Tok): string {
  if (t.t === 'ID') return 'ID:' + t.v;
  if (t.t === 'STR') return "String:'" + t.v + "'";
  return kind(t);
}

function syntax(msg: string): never {
  throw new StorageError(msg, 'SyntaxError');
}

const isCh = (t: Tok, ch: string): boolean => t.t === 'CH' && t.v === ch;

/** jslMatch */
function expect(lx: Lexer, ch: string): void {
  if (isCh(lx.tok, ch)) { lx.next(); return; }
  syntax(`Got ${describe(lx.tok)} expected '${ch}'`);
}

/** No value and no exception: the firmware's `return 0` (a lone '-'), which every caller passes up. */
const NO_VALUE = Symbol('no value');

function parseValue(lx: Lexer, liberal: boolean): unknown {
  const t = lx.tok;
  if (t.t === 'WORD' && (t.v === 'true' || t.v === 'false' || t.v === 'null')) {
    lx.next();
    return t.v === 'null' ? null : t.v === 'true';
  }
  if (t.t === 'NUM' || t.t === 'STR') { lx.next(); return t.v; }
  if (isCh(t, '-')) {
    lx.next();
    const n = lx.tok;
    if (n.t !== 'NUM') return NO_VALUE;
    lx.next();
    return -n.v;
  }
  if (isCh(t, '[')) {
    lx.next();
    const arr: unknown[] = [];
    while (!isCh(lx.tok, ']')) {
      const v = parseValue(lx, liberal);
      if (v === NO_VALUE) return NO_VALUE;
      arr.push(v);
      if (!isCh(lx.tok, ']')) expect(lx, ',');
    }
    lx.next();
    return arr;
  }
  if (isCh(t, '{')) {
    lx.next();
    const obj: Record<string, unknown> = {};
    while (lx.tok.t === 'STR' || lx.tok.t === 'ID' || lx.tok.t === 'NUM') {
      const k = lx.tok;
      if (k.t !== 'STR' && !liberal) syntax(`Got ${describe(k)} expected STRING`);
      const key = String(k.v);
      lx.next();
      expect(lx, ':');
      const v = parseValue(lx, liberal);
      if (v === NO_VALUE) return NO_VALUE;
      if (!Object.prototype.hasOwnProperty.call(obj, key)) obj[key] = v; // reads find the first
      if (!isCh(lx.tok, '}')) expect(lx, ',');
    }
    expect(lx, '}');
    return obj;
  }
  syntax(`Expecting valid value, got ${kind(t)}`);
}

/**
 * JSON.parse (`liberal` false) or Storage.readJSON (`liberal` true) of `text`, as host values;
 * undefined where the firmware returns nothing without an error. Throws StorageError('SyntaxError').
 */
export function parseEspruinoJson(text: string, liberal: boolean): unknown {
  const v = parseValue(new Lexer(text), liberal);
  return v === NO_VALUE ? undefined : v;
}
