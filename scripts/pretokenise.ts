// Pretokenises minified ES5 for Storage (emulator/tokens.ts has the format): each reserved
// word and operator in Espruino's token table becomes its one byte, and with them go the
// spaces they needed. Terser's idioms `void 0`, `!0` and `!1` become the one-byte
// `undefined`, `true` and `false`. Comments go. Line breaks stay where terser put them: an
// Error's stack pads each frame with a space per column of its line (seen on 2v29).
// String literals, numbers and regular expressions are copied as text.
import { tokenizer, type Token } from "acorn";
import { FIRST_TOKEN, TOKENS } from "../emulator/tokens.ts";

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
