// The pretokenised Storage forms of the device code (scripts/pretokenise.ts) mean what the
// minified text means, and the emulator reads them as the board does (emulator/tokens.ts).
// Golden probe 67 holds the token table to the real interpreter; test/real-*.test.ts run the
// pretokenised module and boot stage there.
import { expect } from "chai";
import { parse } from "acorn";
import { pretokenise, FIRST_TOKEN, TOKENS } from "../scripts/pretokenise.ts";
import { untokenise } from "../emulator/tokens.ts";
import { committedModules } from "../harness/real-ota.ts";

const OPTS = { ecmaVersion: 5 as const, allowReturnOutsideFunction: true };

// The program, without positions, with terser's `void 0`, `!0` and `!1` as the literals
// pretokenise() writes for them.
function program(code: string): string {
  return JSON.stringify(parse(code, OPTS), (k, v) => {
    if (k == "start" || k == "end" || k == "raw") return undefined;
    const arg = v && v.type == "UnaryExpression" && v.argument.type == "Literal" ? v.argument.value : undefined;
    if (v && v.operator == "void" && arg === 0) return { type: "Identifier", name: "undefined" };
    if (v && v.operator == "!" && (arg === 0 || arg === 1)) return { type: "Literal", value: !arg };
    return v;
  });
}

const byte = (t: string) => String.fromCharCode(FIRST_TOKEN + TOKENS.indexOf(t));

describe("pretokenised device code", () => {
  const built = committedModules();

  for (const [what, text, tok] of [["the module", built.otaMin, built.otaTok], ["the boot stage", built.boot, built.bootTok]]) {
    it(`${what}: the stored bytes are the minified program, smaller`, () => {
      expect(tok).to.equal(pretokenise(text));
      expect(program(untokenise(tok))).to.equal(program(text));
      expect(tok.length).to.be.below(text.length * 0.95);
      // every byte above ASCII is a token of the table: no stray byte reaches the board
      for (const ch of tok) if (ch.charCodeAt(0) > 127) expect(TOKENS[ch.charCodeAt(0) - FIRST_TOKEN], `byte ${ch.charCodeAt(0)}`).to.be.a("string");
      // the text's lines (less the module's header comment): an Error's stack pads each frame
      // with a space per column of its line
      expect(tok.split("\n").length).to.equal(text.replace(/^\/\*.*\*\/\n/, "").split("\n").length);
    });
  }

  it("writes each reserved word and operator as its byte, with only the spaces still needed", () => {
    expect(pretokenise("function f(a){return a===1&&typeof a}")).to.equal(`${byte("function")}f(a){${byte("return")}a${byte("===")}1${byte("&&")}${byte("typeof")}a}`);
    expect(pretokenise("var x=void 0,y=!0,z=!1")).to.equal(`${byte("var")}x=${byte("undefined")},y=${byte("true")},z=${byte("false")}`);
    expect(pretokenise("/* licence */\na=1\n++b")).to.equal(`a=1\n${byte("++")}b`);
  });

  it("leaves property names, strings and what binds to a number as text", () => {
    for (const code of ["x.default=1", "var o={delete:1,if:2};o.if", "a- -b+ +c", "y=!0.5||!1[x]", "1 .toFixed(1)", 'f("function return")', "x=/==/.test(y)"]) {
      const tok = pretokenise(code);
      expect(program(untokenise(tok)), code).to.equal(program(code));
    }
    expect(pretokenise("x.default=o.if")).to.equal("x.default=o.if");
    expect(pretokenise('f("return")')).to.equal('f("return")');
  });

  it("the emulator reads the raw literals and leaves text code alone", () => {
    const C = String.fromCharCode;
    expect(eval(untokenise(`[${C(0xd1, 3)}abc,${C(0xd2, 2, 0)}de,${C(0xd3)},${C(0xd4, 0xfb)},${C(0xd5, 0, 1)},${C(0xd5, 0xff, 0xff)},null${C(0xd0)}9]`))).to.deep.equal(["abc", "de", 0, -5, 256, -1, 9]);
    // Latin-1 in a string, a comment and a regular expression is text, not a token
    for (const code of ['x="\xaa\xab"', "x=1 // \xaa\n", 'x=/"\xaa/.test(y)', "x='caf\xc3\xa9'"]) expect(untokenise(code)).to.equal(code);
    expect(untokenise(`${byte("return")}/"/.test(${byte("this")})`)).to.equal(' return /"/.test( this )');
  });
});
