// The suite's rule for tests that need a tool the machine may lack: when `CI` is set,
// everything runs, so a missing tool is a failure; elsewhere the test says loudly that
// it did not run, why, and how to make it run (mocha counts it as pending).
import { ESPRUINO_BIN, ENABLE_HINT } from "./real-board.ts";

// Kept on globalThis: mocha loads some test files with require() and others with import(),
// which gives this module two instances, and there must be one list and one summary.
const NOT_RUN = Symbol.for("espruino-ota: tests that did not run");
const notRun: string[] = ((globalThis as Record<symbol, string[]>)[NOT_RUN] ??= []);

// Repeats every "did not run" after mocha's own summary, so that it is the last word of
// `npm test`, not lost in the middle of its output.
function summary(): void {
  process.stderr.write(`\n  NOT RUN (${notRun.length}), not passes; with CI set they fail:\n${notRun.map((t) => `    - ${t}\n`).join("")}\n`);
}

/** Ends the current test as not run (pending), or fails it when CI is set. */
export function didNotRun(ctx: Mocha.Context, what: string, why: string, how: string): never {
  const text = `${what} DID NOT RUN: ${why}. To run it: ${how}.`;
  if (process.env.CI) throw new Error(`${text} (CI is set, so this is a failure)`);
  const bar = "!".repeat(Math.min(100, text.length));
  console.warn(`\n${bar}\n${text}\n${bar}\n`);
  if (notRun.length == 0) process.once("exit", summary);
  notRun.push(text);
  ctx.skip();
}

/**
 * describe() for tests of the real Espruino interpreter: without ESPRUINO_BIN, one test
 * stands in for the whole block and says it did not run (fails under CI).
 */
export function describeReal(title: string, body: (this: Mocha.Suite) => void): void {
  if (ESPRUINO_BIN) {
    describe(title, body);
    return;
  }
  describe(title, () => {
    it("runs in the real Espruino interpreter", function () {
      didNotRun(this, `"${title}" (real-interpreter tests)`, "ESPRUINO_BIN is not set", ENABLE_HINT);
    });
  });
}
