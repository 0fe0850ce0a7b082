/**
 * Espruino's two non-standard JSON dialects used by Storage:
 * - `writeJSON` output: unquoted identifier keys, `\xXX` escapes (jsfGetJSONWithCallback without
 *   JSON_JSON_COMPATIBILE);
 * - `readJSON` input: the liberal parser (JS lexer based: unquoted keys, single quotes, `\x`
 *   escapes; stops after one value, so trailing garbage is ignored).
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

// ------------------------------------------------------------------ liberal parser

type Tok =
  | { t: 'ID'; v: string }
  | { t: 'STR'; v: string }
  | { t: 'NUM'; v: number; float: boolean }
  | { t: 'CH'; v: string }
  | { t: 'EOF' };

class Lexer {
  pos = 0;
  tok: Tok = { t: 'EOF' };
  constructor(private s: string) { this.next(); }

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
      this.tok = { t: 'ID', v: m };
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
          const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' };
          if (e === 'x') { out += String.fromCharCode(parseInt(s.substr(i + 1, 2), 16)); i += 3; continue; }
          if (e === 'u') { out += String.fromCharCode(parseInt(s.substr(i + 1, 4), 16)); i += 5; continue; }
          out += simple[e] ?? e;
          i++;
          continue;
        }
        out += s[i++];
      }
      this.pos = Math.min(i + 1, s.length);
      this.tok = { t: 'STR', v: out };
      return;
    }
    this.pos++;
    this.tok = { t: 'CH', v: c };
  }
}

/** jslGetTokenString */
function describe(t: Tok): string {
  switch (t.t) {
    case 'ID': return 'ID:' + t.v;
    case 'STR': return "String:'" + t.v + "'";
    case 'NUM': return t.float ? 'FLOAT' : 'INT';
    case 'CH': return "'" + t.v + "'";
    case 'EOF': return 'EOF';
  }
}

function syntax(msg: string): never {
  throw new StorageError(msg, 'SyntaxError');
}

function expect(lx: Lexer, ch: string): void {
  if (lx.tok.t === 'CH' && lx.tok.v === ch) { lx.next(); return; }
  syntax(`Got ${describe(lx.tok)} expected '${ch}'`);
}

function parseValue(lx: Lexer): unknown {
  const t = lx.tok;
  if (t.t === 'STR') { lx.next(); return t.v; }
  if (t.t === 'NUM') { lx.next(); return t.v; }
  if (t.t === 'ID') {
    lx.next();
    if (t.v === 'true') return true;
    if (t.v === 'false') return false;
    if (t.v === 'null') return null;
    if (t.v === 'undefined') return undefined;
    if (t.v === 'NaN') return NaN;
    if (t.v === 'Infinity') return Infinity;
    syntax(`Got ${describe(t)} expected a value`);
  }
  if (t.t === 'CH' && t.v === '-') {
    lx.next();
    const v = parseValue(lx);
    return -(v as number);
  }
  if (t.t === 'CH' && t.v === '[') {
    lx.next();
    const arr: unknown[] = [];
    while (!(lx.tok.t === 'CH' && lx.tok.v === ']')) {
      if (lx.tok.t === 'EOF') syntax(`Got EOF expected ']'`);
      arr.push(parseValue(lx));
      if (lx.tok.t === 'CH' && lx.tok.v === ',') lx.next();
      else if (!(lx.tok.t === 'CH' && lx.tok.v === ']')) expect(lx, ']');
    }
    lx.next();
    return arr;
  }
  if (t.t === 'CH' && t.v === '{') {
    lx.next();
    const obj: Record<string, unknown> = {};
    while (!(lx.tok.t === 'CH' && lx.tok.v === '}')) {
      const k = lx.tok;
      let key: string;
      if (k.t === 'STR' || k.t === 'ID') key = k.v;
      else if (k.t === 'NUM') key = String(k.v);
      else syntax(`Got ${describe(k)} expected '}'`);
      lx.next();
      expect(lx, ':');
      obj[key] = parseValue(lx);
      if (lx.tok.t === 'CH' && lx.tok.v === ',') lx.next();
      else if (!(lx.tok.t === 'CH' && lx.tok.v === '}')) expect(lx, '}');
    }
    lx.next();
    return obj;
  }
  syntax(`Got ${describe(t)} expected a value`);
}

/** Storage.readJSON's liberal parse (host values; throws StorageError('SyntaxError')). */
export function parseLiberal(text: string): unknown {
  return parseValue(new Lexer(text));
}
