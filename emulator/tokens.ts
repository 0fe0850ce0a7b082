/**
 * Espruino's pretokenised code, as its lexer reads it (src/jslex.c): outside a string literal
 * or a comment, a byte from 138 up is a whole token. The build stores the module and the boot
 * stage this way (scripts/pretokenise.ts has the format); the emulator runs such code by
 * turning it back into text (untokenise). Golden probe 67 holds the table to the real
 * interpreter.
 */
import { FIRST_TOKEN, TOKENS, NULLISH, RAW_STRING8, RAW_STRING16, RAW_INT0, RAW_INT8, RAW_INT16 } from '../scripts/pretokenise.ts';

const WORD = /[A-Za-z0-9_$]/;
// the words after which a '/' starts a regular expression, not a division
const REGEX_AFTER = ['return', 'typeof', 'case', 'do', 'else', 'in', 'instanceof', 'new', 'delete', 'void', 'throw'];

/** A string literal that stands for the bytes of `s` (one char per byte). */
function literal(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += c < 32 || c > 126 || ch === '"' || ch === '\\' ? '\\x' + c.toString(16).padStart(2, '0') : ch;
  }
  return out + '"';
}

/**
 * Pretokenised code as the text it stands for; code without a token byte comes back as it
 * is. Each token becomes its text between spaces, which never changes what JavaScript
 * means, so the result parses as the lexer read the bytes. String literals, comments and
 * regular expressions are copied, so text code with Latin-1 or UTF-8 in them is left alone.
 */
export function untokenise(code: string): string {
  if (!/[\x8a-\xd5]/.test(code)) return code;
  let out = '';
  // what came last outside spaces: whether a '/' there starts a regular expression
  let regexAllowed = true;
  for (let i = 0; i < code.length;) {
    const ch = code[i];
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < code.length && code[j] !== ch) j += code[j] === '\\' ? 2 : 1;
      out += code.slice(i, j + 1);
      i = j + 1;
      regexAllowed = false;
    } else if (code.startsWith('//', i) || code.startsWith('/*', i)) {
      const end = code[i + 1] === '/' ? code.indexOf('\n', i) : code.indexOf('*/', i + 2);
      const j = end < 0 ? code.length : code[i + 1] === '/' ? end : end + 2;
      out += code.slice(i, j);
      i = j;
    } else if (ch === '/' && regexAllowed) {
      let j = i + 1;
      let inClass = false;
      while (j < code.length && (inClass || code[j] !== '/') && code[j] !== '\n') {
        if (code[j] === '\\') j++;
        else if (code[j] === '[') inClass = true;
        else if (code[j] === ']') inClass = false;
        j++;
      }
      j++;
      while (j < code.length && WORD.test(code[j])) j++; // flags
      out += code.slice(i, j);
      i = j;
      regexAllowed = false;
    } else if (c >= FIRST_TOKEN && c < FIRST_TOKEN + TOKENS.length) {
      const text = TOKENS[c - FIRST_TOKEN];
      out += ' ' + text + ' ';
      i++;
      regexAllowed = /^[^a-z]/.test(text) ? !['++', '--'].includes(text) : REGEX_AFTER.includes(text);
    } else if (c === NULLISH) {
      out += ' ?? ';
      i++;
      regexAllowed = true;
    } else if (c === RAW_STRING8 || c === RAW_STRING16) {
      const wide = c === RAW_STRING16;
      const n = code.charCodeAt(i + 1) + (wide ? code.charCodeAt(i + 2) << 8 : 0);
      const at = i + (wide ? 3 : 2);
      out += ' ' + literal(code.slice(at, at + n)) + ' ';
      i = at + n;
      regexAllowed = false;
    } else if (c === RAW_INT0 || c === RAW_INT8 || c === RAW_INT16) {
      const n = c === RAW_INT0 ? 0 : c === RAW_INT8 ? (code.charCodeAt(i + 1) << 24) >> 24
        : ((code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8)) << 16) >> 16;
      out += ' ' + n + ' ';
      i += c === RAW_INT0 ? 1 : c === RAW_INT8 ? 2 : 3;
      regexAllowed = false;
    } else if (WORD.test(ch)) {
      let j = i + 1;
      while (j < code.length && WORD.test(code[j])) j++;
      const word = code.slice(i, j);
      out += word;
      i = j;
      regexAllowed = REGEX_AFTER.includes(word);
    } else {
      out += ch;
      i++;
      if (!/\s/.test(ch)) regexAllowed = !(ch === ')' || ch === ']' || ch === '}');
    }
  }
  return out;
}
