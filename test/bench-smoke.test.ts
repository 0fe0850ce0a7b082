// `npm run bench -- --smoke` end to end in a child process: it must exit 0 and write every
// figure to bench/results/latest.json. (CI runs this, not the full fleet run.)
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../scripts/build.ts";

describe("bench --smoke", function () {
  this.timeout(120_000);

  it("exits 0 and writes the figures as JSON", () => {
    const r = spawnSync("npx", ["tsx", "bench/run.ts", "--smoke"], { cwd: ROOT, encoding: "utf8", timeout: 110_000 });
    expect(r.status, `bench --smoke failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    const out = join(ROOT, "bench", "results", "latest.json");
    expect(r.stdout).to.include(out);
    const j = JSON.parse(readFileSync(out, "utf8"));
    expect(j.smoke).to.equal(true);
    expect(j.failures).to.deep.equal([]);
    expect(j.machine).to.have.keys("nproc", "cpu", "node", "date");
    // 1. footprint, with the resident estimate
    expect(j.footprint.otaMin.raw).to.be.greaterThan(0);
    expect(j.footprint.otaMin.gzip).to.be.greaterThan(0);
    expect(j.footprint.boot.raw).to.be.greaterThan(0);
    expect(j.footprint.resident.estimate).to.equal(true);
    expect(j.footprint.resident.jsVars).to.be.greaterThan(0);
    // 2. memory: every board, both updaters, and espruino-ota's peak is one HTTP chunk at most
    for (const board of ["ESP32", "ESP8266_4MB", "ESP8266_BOARD"]) {
      const rows = j.memory.filter((m: any) => m.board == board && m.updater == "espruino-ota");
      expect(rows).to.have.length(2);
      for (const m of rows) {
        expect(m.peakRam).to.be.at.most(m.httpChunk);
        expect(m.maxStorageWrite).to.be.at.most(m.httpChunk);
      }
      expect(j.memory.filter((m: any) => m.board == board && m.updater != "espruino-ota")).to.have.length(2);
    }
    // 3. wear, 4. speed, 5. no-op, 6. fleet, each measured
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
    expect(j.speed.length).to.be.at.least(1);
    for (const s of j.speed) expect(s.otaRatio).to.be.a("number").and.greaterThan(0);
    expect(j.noop.some((n: any) => n.updater == "espruino-ota" && n.call == "check")).to.equal(true);
    if (typeof j.fleet != "string") {
      expect(j.fleet[0].ok).to.be.greaterThan(0);
      expect(j.fleet[0].p99Ms).to.be.a("number");
    }
  });
});
