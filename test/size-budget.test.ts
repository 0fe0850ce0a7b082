// The device code must stay within bench/budget.json: a plain size check of what
// scripts/build.ts builds (not a timing), so it is exact on any machine.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildModules, ROOT } from "../scripts/build.ts";

const budget = JSON.parse(readFileSync(join(ROOT, "bench", "budget.json"), "utf8"));
const HOW = "Make the module smaller, or, if the growth is worth it, raise bench/budget.json in its own reviewed change that says why. Never raise the budget silently.";

describe("size budget (bench/budget.json)", function () {
  this.timeout(120_000);
  let built: { otaMin: string; boot: string };
  before(async () => {
    built = await buildModules();
  });

  it("modules/ota.min.js stays within its budget", () => {
    const n = Buffer.byteLength(built.otaMin);
    expect(n, `ota.min.js is ${n} B, over its budget of ${budget["ota.min.js"]} B. ${HOW}`).to.be.at.most(budget["ota.min.js"]);
  });

  it("the boot stage (.boot0) stays within its budget", () => {
    const n = Buffer.byteLength(built.boot);
    expect(n, `the boot stage is ${n} B, over its budget of ${budget.boot} B. ${HOW}`).to.be.at.most(budget.boot);
  });
});
