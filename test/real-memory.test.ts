// The RAM and Storage targets of issue 9, measured on the built module in the REAL
// Espruino interpreter (harness/real-figures.ts, the same code the bench runs), and a
// check of the measuring method itself on modules whose cost is known.
// Runs only with ESPRUINO_BIN (harness/gate.ts says so loudly otherwise, and fails under CI).
import { expect } from "chai";
import { describeReal } from "../harness/gate.ts";
import { measureRealFigures, residentCost, REAL_TARGETS, type RealFigures } from "../harness/real-figures.ts";
import { committedModules } from "../harness/real-ota.ts";
import { RealBoard, markOf } from "../harness/real-board.ts";

describeReal("real interpreter: the measuring method", function () {
  this.timeout(30_000);

  // Costs seen on 2v29.277 with require("Storage") run first (the module cache exists):
  // an empty module holds 2 JsVars (its exports object and cache entry), each further
  // small exported function 5, each parameter 1 more.
  const fns = (n: number, params = "") => Array.from({ length: n }, (_, i) => `exports.f${i} = function (${params}) { return 1; };`).join("\n");

  it("counts an empty module as a few JsVars", async () => {
    expect(await residentCost({ empty: ";" }, "empty")).to.be.within(1, 7);
  });

  it("counts each small exported function as about 5 JsVars, and 1 per parameter", async () => {
    const [two, five, fiveWithParams] = [await residentCost({ m: fns(2) }, "m"), await residentCost({ m: fns(5) }, "m"), await residentCost({ m: fns(5, "a, b") }, "m")];
    expect((five - two) / 3, `2 functions: ${two}, 5 functions: ${five}`).to.be.within(4, 6);
    expect(fiveWithParams - five, "5 functions with 2 parameters each").to.equal(10);
  });

  it("gives the same usage at two starts of the same board (the base of the pending figure)", async () => {
    const b = new RealBoard();
    try {
      await b.store({ x: "exports.x = 1;" });
      const code = `mark("usage", process.memory().usage);`;
      expect(markOf(await b.start(code), "usage")).to.equal(markOf(await b.start(code), "usage"));
    } finally {
      b.dispose();
    }
  });
});

describeReal("real interpreter: RAM and Storage of the ota module (issue 9 targets)", function () {
  this.timeout(120_000);
  let f: RealFigures;

  before(async () => {
    f = await measureRealFigures(committedModules());
    console.log(`      measured on Espruino ${f.interpreter}: ${JSON.stringify(f)}`);
  });

  it(`holds at most ${REAL_TARGETS.residentJsVars} JsVars after require("ota")`, () => {
    expect(f.residentJsVars).to.be.at.most(REAL_TARGETS.residentJsVars);
  });

  it(`peaks at most ${REAL_TARGETS.updatePeakJsVars} JsVars above that during an update of one 4 KB file and of one 60 KB file`, () => {
    for (const p of f.peaks) expect(p.updateJsVars, `${p.bytes} B (bare download: ${p.bareJsVars})`).to.be.at.most(REAL_TARGETS.updatePeakJsVars);
  });

  it("does not grow its peak with the file size", () => {
    const [small, large] = f.peaks;
    expect(large.updateJsVars - small.updateJsVars, JSON.stringify(f.peaks)).to.be.at.most(10);
  });

  it(`holds at most ${REAL_TARGETS.pendingJsVars} JsVars for a pending release once the app runs`, () => {
    expect(f.pendingJsVars).to.be.at.most(REAL_TARGETS.pendingJsVars);
  });

  it("holds nothing more after a second update (reset: \"none\") than after the first", () => {
    expect(f.secondRunJsVars).to.be.at.most(REAL_TARGETS.secondRunJsVars);
  });

  it(`keeps at most ${REAL_TARGETS.storageBytes} bytes of its own in Storage`, () => {
    expect(f.storageBytes, JSON.stringify(f.storageFiles)).to.be.at.most(REAL_TARGETS.storageBytes);
  });
});
