// Fault injection: the power is cut at every flash write of an update (download,
// staging, journal) and of the install in the boot stage, and in the middle of every
// data write. After power returns, the board boots either exactly the old release or
// exactly the new one, and letting it run on converges on the new release.
import { expect } from "chai";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, sampleApp, publish, newRoot, installed, BOARDS } from "../harness/device.ts";
import type { BoardName } from "../emulator/board.ts";
import type { Flash } from "../emulator/flash-memory.ts";

export let powerCutPoints = 0;

for (const board of BOARDS) {
  describe(`power cut at every flash write of an update, ${board}`, function () {
    this.timeout(600000);
    let root: string, srv: OtaServer, opts: object, base: Flash;

    before(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      opts = { host: srv.url, project: "sample", files: [".bootcde", "main", "data.bin"] };
      // A binary file with every byte value, 0xFF runs included, so a copy that stops
      // early or skips a piece cannot look whole. Sized to fit each board twice over.
      const size = board == "ESP8266_BOARD" ? 400 : 5000;
      const bin = (v: string) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + v.length + (i >> 8)) & 0xff));
      const files = (v: string) => ({ ...sampleApp(v, opts), "data.bin": bin(v).toString("latin1") });
      await publish(root, "sample", "v1.0.0", { ...sampleApp("v1.0.0", opts), "data.bin": bin("v1.0.0") });
      const b = otaBoard(board);
      b.powerOn();
      await call(b, "update", opts);
      b.powerOn();
      await b.run({ timeout: 10000 });
      expect(installed(b).version).to.equal("v1.0.0");
      await publish(root, "sample", "v1.0.1", { ...sampleApp("v1.0.1", opts), "data.bin": bin("v1.0.1") });
      base = b.flash.clone();
      // Start from compacted Storage, as the boot stage leaves it when update() asks:
      // on the 16 KB board the kept copies leave no room for trash.
      base.compact();
      expectedOld = files("v1.0.0");
      expectedNew = files("v1.0.1");
    });
    after(() => srv.close());
    let expectedOld: Record<string, string>, expectedNew: Record<string, string>;

    function whole(flash: Flash): "old" | "new" {
      const b = otaBoard(board, { flash });
      const s = installed(b);
      if (s.version === "v1.0.0") {
        expect(s.files).to.deep.equal(expectedOld);
        return "old";
      }
      expect(s.version).to.equal("v1.0.1");
      expect(s.files).to.deep.equal(expectedNew);
      return "new";
    }

    async function runFrom(flash: Flash) {
      const b = otaBoard(board, { flash });
      b.powerOn();
      await b.run({ timeout: 15000 });
      return b;
    }

    it("a clean run updates, and counts the flash writes to cut", async () => {
      const b = await runFrom(base.clone());
      const s = installed(b);
      expect(s.version).to.equal("v1.0.1");
      expect(s.files).to.deep.equal(expectedNew);
      expect(s.leftovers).to.deep.equal([]);
      ops = b.flash.opCount;
      expect(ops).to.be.greaterThan(10);
    });
    let ops = 0;

    for (const mid of [false, true]) {
      it(`after each write k = 1..N${mid ? ", cut in the middle of the write" : ""}: exactly one whole release, then convergence`, async () => {
        const seen = { old: 0, new: 0 };
        for (let k = 1; k <= ops; k++) {
          const flash = base.clone();
          const b = otaBoard(board, { flash });
          b.cutPower(k, mid);
          b.powerOn();
          const why = await b.run({ timeout: 15000 });
          expect(why, `cut at write ${k}`).to.equal("powercut");
          // Power returns: the boot stage runs before anything else. Look at the
          // installed release as the app would see it, before its update() acts.
          const after = b.flash.clone();
          const probe = otaBoard(board, { flash: after });
          probe.runFile(""); // file mode: .boot0-.boot3 run, the app (.bootcde) does not
          seen[whole(after)]++;
          powerCutPoints++;
          // Left to run, the board finishes the job. On a 16 KB board the cut download's
          // trash can leave too little room: update() then asks for compaction at the
          // next start (ENOSPC), and the start after this one converges.
          let done = await runFrom(b.flash);
          if (installed(done).version !== "v1.0.1") {
            expect(done.output, `cut at write ${k}`).to.contain("ENOSPC").and.contain("compacted at the next boot");
            done = await runFrom(b.flash);
          }
          const s = installed(done);
          expect(s.version, `converged after cut at write ${k}`).to.equal("v1.0.1");
          expect(s.files).to.deep.equal(expectedNew);
          expect(s.leftovers).to.deep.equal([]);
          expect(done.output).to.contain("main v1.0.1");
        }
        // Both sides of the commit point were reached.
        expect(seen.old).to.be.greaterThan(0);
        expect(seen.new).to.be.greaterThan(0);
      });
    }
  });
}

after(() => {
  console.log(`      power-cut points tested: ${powerCutPoints}`);
});
