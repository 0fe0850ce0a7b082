// Awaits a promise that must reject with the given OtaError code (and message pattern);
// returns the error for further checks.
import { expect } from "chai";

export async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (e: any) {
    expect(e.code, e.message).to.equal(code);
    if (re) expect(e.message).to.match(re);
    return e;
  }
  throw new Error(`expected a rejection with code ${code}`);
}
