// The built device modules are ES5 that real Espruino can run, and the committed
// copies are exactly what the sources build to.
import { expect } from "chai";
import { parse } from "acorn";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildModules, inlineConstants, hoistVars, nestSingleUse, MODULES, type BuiltModules } from "../scripts/build.ts";
import { DEVICE_FILES } from "../tools/package-files.ts";
import { es5Problems } from "../harness/es5-check.ts";

describe("device module build", function () {
  this.timeout(60000);
  let built: BuiltModules;
  before(async () => {
    built = await buildModules();
  });

  it("committed modules/ota.min.js, ota.tok, boot.min.js, boot.tok and count.min.js match the sources", () => {
    for (const [key, file] of Object.entries(DEVICE_FILES) as [keyof typeof DEVICE_FILES, string][])
      expect(readFileSync(join(MODULES, file), "latin1"), `modules/${file}: run \`npm run build\` and commit`).to.equal(built[key]);
  });

  for (const which of ["ota", "otaMin", "boot", "count"] as const) {
    it(`${which} parses as ECMAScript 5 and uses nothing Espruino lacks`, () => {
      const src = built[which];
      expect(() => parse(src, { ecmaVersion: 5, sourceType: "script" })).not.to.throw();
      expect(es5Problems(src)).to.deep.equal([]);
      // An upload that re-encodes as UTF-8 must not change a byte the device compares.
      expect(/^[\x00-\x7f]*$/.test(src), "non-ASCII character in the output").to.equal(true);
    });
  }

  it("exports update, check, version, confirm and status, and requires only Espruino built-ins", () => {
    // loading it defines the five functions and runs nothing else
    const exports: Record<string, unknown> = {};
    new Function("exports", "require", built.otaMin)(exports, () => { throw new Error("require at load"); });
    expect(Object.keys(exports).sort()).to.deep.equal(["check", "confirm", "status", "update", "version"]);
    const required = [...built.ota.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect([...new Set(required)].sort()).to.deep.equal(["Storage", "crypto", "http"]);
  });

  it("reports the size of the device files", () => {
    console.log(`      ota.min.js ${built.otaMin.length} B, boot.min.js ${built.boot.length} B, count.min.js ${built.count.length} B`);
    expect(built.otaMin.length).to.be.greaterThan(0);
  });
});

describe("ES5 checker", () => {
  // The checker must be able to fail, or the build test above proves nothing.
  const cases: [string, string][] = [
    ["var m = new Map();", "Map"],
    ["var s = Symbol('x');", "Symbol"],
    ["var a = Array.from([1]);", "Array.from"],
    ["p.finally(function(){});", ".finally"],
    ["var r = /a(?=b)/;", "lookaround"],
    ["var r = /a{2}/;", "quantifier"],
    ["f(); function f(){}", "hoisting: f"],
    ["function g(){ return h(); function h(){} }", "hoisting: h"],
    ["var b = Buffer.from('x');", "Buffer"],
  ];
  for (const [code, what] of cases) {
    it(`flags ${what}`, () => {
      expect(es5Problems(code).join(" ")).to.contain(what);
    });
  }
  it("accepts calls to functions declared earlier, or from inside functions", () => {
    expect(es5Problems("function f(){ return g(); } function g(){ return 1; } f();")).to.deep.equal([]);
  });
});

describe("constant inlining (module-level constants cost RAM on the board)", () => {
  it("puts literals in place of UPPER_CASE constants and drops their declarations", () => {
    const out = inlineConstants('var STATE = ".otav", n = 1;\nfunction f(S) { return S.read(STATE) + n; }\nexports.f = f;');
    expect(out).to.contain('S.read(".otav")').and.contain("var n = 1;");
    expect(out).not.to.contain("STATE");
  });
  it("leaves property names, shadowed names and reassigned names alone, and inlines regex constants", () => {
    const src = 'var A = "a", B = "b", R = /x/;\nfunction f(o, B) { o.A = {A: A}; return B + R.test(o); }\nA = "c";';
    const out = inlineConstants(src);
    expect(out).to.contain("o.A = {A: A}").and.contain('var A = "a", B = "b";').and.contain("/x/.test(o)");
  });
  it("left no module-level string constants in the built module", async () => {
    const m = await buildModules();
    expect(m.otaMin).not.to.match(/^var [a-zA-Z$_]+="/);
  });
});

describe("var hoisting (Espruino creates a var when its statement runs)", function () {
  it("declares every function's variables at its top and drops `var` where they were", () => {
    const out = hoistVars("function f(){x=1;for(var i=0,j;i<2;i++){var y=i}for(var k in o)z();var x;if(o)var w;var g=o?function(){var q=1,r;return q}:0,h;return g}");
    // only assignments stay where the declarations were; a function in an initialiser gets its own
    expect(out).to.equal("function f(){var i,j,y,k,x,w,g,h;x=1;for(i=0;i<2;i++){y=i}for(k in o)z();if(o);g=o?function(){var q=1,r;return q}:0;return g}");
    expect(es5Problems(out)).to.deep.equal([]);
    // a var statement that opens the body stays whole, and declares the later names first
    expect(hoistVars("function f(){var a=b,c=function(){var d;if(d)var e=1};if(a)var b=2;return c}"))
      .to.equal("function f(){var b,a=b,c=function(){var e,d;if(d)e=1};if(a)b=2;return c}");
    expect(es5Problems("function f(){x=1;var x}")).to.deep.equal(["hoisting: var x is used before its declaration runs"]);
  });
});

describe("functions with one user are nested in it (each function alive costs RAM on Espruino)", function () {
  const src =
    "function __update(){var S=1;function h(a){return a+S}function g(b){return h(b)*2}" +
    "function u(){var S=2;return w()}function w(){return S}function v(){var h=3;return S+h}" +
    "function top1(){return g(1)+g(2)+v()}function top2(){var S=5;return u()+v()}" +
    "function top3(){return late()}function late(){return S+4}return top1()*10+top2()+top3()}";
  const out = nestSingleUse(src);
  const run = (code: string) => new Function(code + "\nreturn __update();")();
  it("moves a helper, and a helper's helper, into the one function that uses it", () => {
    expect(out).to.match(/function top1\(\)\{\s*function g\(b\)\{\s*function h\(a\)/);
    // declared after its user too
    expect(out).to.match(/function top3\(\)\{\s*function late\(\)\{return S\+4\}\s*return late\(\)\}/);
  });
  it("leaves a function that two functions use, and one whose user declares a name it uses", () => {
    // v: used by top1 and top2; w: its user u went into top2, which declares S, and w reads __update's S
    expect(out).to.match(/^function __update\(\)\{var S=1;function w\(\)\{return S\}function v\(\)\{var h=3;return S\+h\}function top1/);
    expect(out).to.match(/function top2\(\)\{\s*function u\(\)\{var S=2;return w\(\)\}/);
  });
  it("keeps what the code computes", () => {
    expect(run(out)).to.equal(run(src));
  });
});
