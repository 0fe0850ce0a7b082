// Espruino's pretokenised code (its lexer, src/jslex.c: LEX_TYPES). Outside a string
// literal or a comment, a byte from 138 up is a whole token: a reserved word or a two- or
// three-character operator in one byte, or a raw string or integer. The lexer reads such
// code from RAM and from Storage alike, on every build without SAVE_ON_FLASH (ESP32 and
// ESP8266 among them); the Web IDE's "pretokenise" option and the Bangle.js App Loader write
// it. Golden probe 67 holds this table to the real interpreter, and the emulator reads such
// code with it (emulator/tokens.ts).
//
// pretokenise() writes the Storage forms of minified ES5: each reserved word and operator of
// the table becomes its byte, and with them go the spaces they needed. Terser's idioms
// `void 0`, `!0` and `!1` become the one-byte `undefined`, `true` and `false`. Comments go.
// Line breaks stay where terser put them: an Error's stack pads each frame with a space per
// column of its line (seen on 2v29). String literals, numbers and regular expressions are
// copied as text.
import { tokenizer, type Token } from "acorn";

/** The first token byte: LEX_EQUAL, after LEX_ID .. LEX_UNFINISHED_COMMENT (128 to 137). */
export const FIRST_TOKEN = 138;

/** Byte FIRST_TOKEN + i is TOKENS[i]: the operators, "=>", then the reserved words (to LEX_R_OF). */
export const TOKENS: readonly string[] = [
  "==", "===", "!=", "!==", "<=", "<<", "<<=", ">=", ">>", ">>>", ">>=", ">>>=", "+=", "-=", "++", "--",
  "*=", "/=", "%=", "&=", "&&", "|=", "||", "^=", "=>",
  "if", "else", "do", "while", "for", "break", "continue", "function", "return", "var", "let", "const",
  "this", "throw", "try", "catch", "finally", "true", "false", "null", "undefined", "new", "in",
  "instanceof", "switch", "case", "default", "delete", "typeof", "void", "debugger", "class",
  "extends", "super", "static", "of",
];

/** After a gap of nine codes (_LEX_R_LIST_END + 10): "??", then the raw literals. */
export const NULLISH = 0xd0;
export const RAW_STRING8 = 0xd1; // a length byte, then the bytes
export const RAW_STRING16 = 0xd2; // a 16-bit little-endian length, then the bytes
export const RAW_INT0 = 0xd3; // 0
export const RAW_INT8 = 0xd4; // a signed byte
export const RAW_INT16 = 0xd5; // a signed 16-bit little-endian integer

const WORD = /[A-Za-z0-9_$]/;
const byte = (text: string) => String.fromCharCode(FIRST_TOKEN + TOKENS.indexOf(text));

export function pretokenise(code: string): string {
  const toks: Token[] = [...tokenizer(code, { ecmaVersion: 5 })];
  const text = (i: number) => (i >= 0 && i < toks.length ? code.slice(toks[i].start, toks[i].end) : "");
  let out = "";
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i], raw = text(i), next = text(i + 1);
    const gap = i > 0 ? code.slice(toks[i - 1].end, t.start) : "";
    let put = raw;
    // a property name stays a word: `x.default`, `{delete: 1}` (not `a ? null : b`)
    const prev = text(i - 1), named = prev != "." && !(next == ":" && (prev == "{" || prev == ","));
    const word = t.type.keyword !== undefined || t.type.label == "name";
    if (TOKENS.includes(raw) && (word ? named && (t.type.keyword !== undefined || raw == "undefined") : t.type.label != "string")) put = byte(raw);
    // `void 0` and `!0`/`!1` whole: not when what follows binds to the number (`!0.5`, `!1[x]`)
    if ((raw == "void" || raw == "!") && i + 2 <= toks.length && /^[01]$/.test(next) && ![".", "[", "("].includes(text(i + 2))) {
      put = byte(raw == "void" ? "undefined" : next == "0" ? "true" : "false");
      i++;
    }
    const a = out.slice(-1), b = put[0];
    if (gap.includes("\n")) out += "\n";
    else if ((WORD.test(a) && WORD.test(b)) || (a == "+" && b == "+") || (a == "-" && b == "-") || (/[0-9]/.test(a) && b == ".")) out += " ";
    out += put;
  }
  return out;
}
