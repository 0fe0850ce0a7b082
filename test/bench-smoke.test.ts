// `npm run bench -- --smoke` end to end in a child process: it must write every figure to
// bench/results/latest.json, and exit 1 exactly when it reports a failure. (CI runs this,
// not the full fleet run.) The real-interpreter figures are checked against their targets
// by test/real-memory.test.ts; here, that the bench measures them (with ESPRUINO_BIN),
// reports every missed target as a failure, and prints no number without them.
import { expect } from "chai";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../scripts/build.ts";
import { didNotRun } from "../harness/gate.ts";
import { ESPRUINO_BIN, ENABLE_HINT } from "../harness/real-board.ts";
import { realRows } from "../harness/real-figures.ts";

describe("bench --smoke", function () {
  this.timeout(150_000);
  let r: SpawnSyncReturns<string>;
  let j: any;

  before(() => {
    r = spawnSync("npx", ["tsx", "bench/run.ts", "--smoke"], { cwd: ROOT, encoding: "utf8", timeout: 140_000 });
    const out = join(ROOT, "bench", "results", "latest.json");
    expect(r.stdout, `bench --smoke wrote no results:\n${r.stdout}\n${r.stderr}`).to.include(out);
    j = JSON.parse(readFileSync(out, "utf8"));
  });

  it("exits 1 exactly when it reports a failure, and fails only on missed real-interpreter targets", () => {
    expect(r.status, `bench --smoke:\n${r.stdout}\n${r.stderr}`).to.equal(j.failures.length ? 1 : 0);
    // test/real-memory.test.ts fails on those targets; anything else is the bench's own failure
    expect(j.failures.filter((f: string) => !f.startsWith("real interpreter:"))).to.deep.equal([]);
  });

  it("writes the emulator's figures as JSON", () => {
    expect(j.smoke).to.equal(true);
    expect(j.machine).to.have.keys("nproc", "cpu", "node", "date");
    // 1. footprint: sizes only (RAM is measured in the real interpreter, never estimated)
    expect(j.footprint.otaMin.raw).to.be.greaterThan(0);
    expect(j.footprint.otaMin.gzip).to.be.greaterThan(0);
    expect(j.footprint.boot.raw).to.be.greaterThan(0);
    expect(j.footprint).to.not.have.property("resident");
    // 3. largest RAM chunk (bytes): every board, both updaters; espruino-ota's is one HTTP chunk at most
    for (const board of ["ESP32", "ESP8266_4MB", "ESP8266_BOARD"]) {
      const rows = j.memory.filter((m: any) => m.board == board && m.updater == "espruino-ota");
      expect(rows).to.have.length(2);
      for (const m of rows) {
        expect(m.largestRamChunk).to.be.at.most(m.httpChunk);
        expect(m.maxStorageWrite).to.be.at.most(m.httpChunk);
      }
      expect(j.memory.filter((m: any) => m.board == board && m.updater != "espruino-ota")).to.have.length(2);
    }
    expect(r.stdout).to.include("BYTES, not JsVars");
    // 4. wear, 5. speed, 6. no-op, each measured
    expect(j.wear.length).to.be.at.least(3);
    expect(j.wear[0].writtenPerPayload).to.be.a("number");
    // keep: true holds copy sets in Storage, keep: false none
    const kept = j.wear.find((w: any) => w.variant.startsWith("keep: true"));
    const dropped = j.wear.find((w: any) => w.variant == "keep: false");
    expect(kept.copySetBytes).to.be.greaterThan(0);
    expect(dropped.copySetBytes).to.equal(0);
    // a 50-file release, manifest and all
    expect(j.speedErrors).to.deep.equal([]);
    expect(j.speed.some((s: any) => s.files == 50)).to.equal(true);
    for (const s of j.speed) expect(s.otaRatio).to.be.a("number").and.greaterThan(0);
    expect(j.noop.some((n: any) => n.updater == "espruino-ota" && n.call == "check")).to.equal(true);
  });

  it("measures RAM and Storage in the real interpreter, and reports each missed target", function () {
    if (!ESPRUINO_BIN) {
      // the bench must say so, with no number in place of the figures
      expect(j.real).to.be.a("string").and.match(/^not measured: ESPRUINO_BIN is not set/);
      const line = r.stdout.split("\n").find((l) => l.includes("real Espruino interpreter"));
      expect(line).to.include("not measured");
      expect(line!.trim().replace(/^\d+\. /, "").replace(ENABLE_HINT.replace(" npm test", " npm run bench"), "")).to.not.match(/\d/);
      didNotRun(this, "the bench's real-interpreter figures", "ESPRUINO_BIN is not set (the bench said they were not measured)", ENABLE_HINT);
    }
    expect(j.real.interpreter).to.match(/^2v\d+/);
    expect(r.stdout).to.include(`real Espruino interpreter ${j.real.interpreter}`);
    for (const row of realRows(j.real)) {
      expect(row.measured, row.figure).to.be.a("number");
      const reported = j.failures.some((f: string) => f.startsWith(`real interpreter: ${row.figure}:`));
      expect(reported, `${row.figure}: ${row.measured} against ${row.target}`).to.equal(!row.met);
    }
  });

  it("measures fleet load on nginx", function () {
    if (typeof j.fleet == "string") {
      expect(j.fleet).to.match(/^not measured: nginx/);
      didNotRun(this, "the bench's fleet checks", "nginx is not installed", "apt-get install nginx (.ci/run does)");
    }
    expect(j.fleet[0].ok).to.be.greaterThan(0);
    expect(j.fleet[0].p99Ms).to.be.a("number");
  });
});
