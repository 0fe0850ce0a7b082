// Boot confirmation and automatic rollback: a new release is pending until confirmed
// (confirm(), or confirmAfter ms without an uncaught exception). An uncaught exception
// while pending, or maxBoots real starts without confirmation, restores the previous
// release from its kept copies before any app code runs.
import { expect } from "chai";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, publish, newRoot, installed, BOARDS } from "../harness/device.ts";
import type { Board, BoardName } from "../emulator/board.ts";
import type { Flash } from "../emulator/flash-memory.ts";

// An app that updates at boot, as the seed's boot code does, and reports what it sees.
function app(v: string, opts: object, body = "") {
  return {
    ".bootcde":
      `print("app ${v}");` +
      `require("ota").update(${JSON.stringify(opts)}, function (e, r) { print("update " + (e ? e.code : JSON.stringify(r))); });` +
      body,
    [`only-${v}.js`]: `exports.v = "${v}";`,
  };
}

async function installV1(board: BoardName, opts: object, root: string): Promise<Board> {
  await publish(root, "p", "v1", app("v1", opts));
  const b = otaBoard(board);
  b.powerOn();
  await call(b, "update", opts);
  b.powerOn();
  await b.run({ timeout: 5000 });
  expect(installed(b).version).to.equal("v1");
  b.flash.writeFile("config.json", '{"user":"data"}'); // never installed by the updater
  return b;
}

const status = (b: Board) => b.exec(`JSON.stringify(require("ota").status())`) as string;

for (const board of BOARDS) {
  describe(`rollback, ${board}`, function () {
    this.timeout(60000);
    let root: string, srv: OtaServer, opts: any;
    beforeEach(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      opts = { host: srv.url, project: "p", confirmAfter: 0 };
    });
    afterEach(() => srv.close());

    it("restores the previous release when the new app throws at boot, and does not install it again", async () => {
      const b = await installV1(board, opts, root);
      await publish(root, "p", "v2", app("v2", opts, `throw new Error("v2 is broken");`));
      b.output = "";
      b.powerOn();
      await b.run({ timeout: 10000 });
      // v2 ran once, threw, and the board came back as v1 before any v2 code ran again
      expect(b.output.match(/app v2/g)).to.have.length(1);
      expect(b.output).to.match(/app v2[\s\S]*app v1\nupdate EREJECTED/);
      const s = installed(b);
      expect(s.version).to.equal("v1");
      expect(s.files).to.deep.equal({ ...app("v1", opts), "config.json": '{"user":"data"}' });
      expect(s.leftovers).to.deep.equal([]);
      const st = JSON.parse(status(b));
      expect(st).to.deep.include({ version: "v1", previous: "v2", pending: false });
      expect(st.lastError).to.match(/rolled back v2 to v1: uncaught Error: v2 is broken/);
      // lastError survives starts
      b.powerOn();
      expect(JSON.parse(status(b)).lastError).to.equal(st.lastError);
    });

    it("restores the previous release after maxBoots real starts without confirm(); load() does not count", async () => {
      // The running release's update() call installs the next one, so its opts set maxBoots.
      const b = await installV1(board, { ...opts, maxBoots: 3 }, root);
      await publish(root, "p", "v2", app("v2", opts));
      b.powerOn(); // v1 downloads v2 and resets into it: the first start of v2
      await b.run({ timeout: 10000 });
      expect(installed(b).version).to.equal("v2");
      expect(JSON.parse(status(b))).to.deep.include({ version: "v2", previous: "v1", pending: true, boots: 1 });
      b.exec("load()"); // soft reset: not a start of the board
      await b.settle({ timeout: 2000 });
      expect(JSON.parse(status(b)).boots).to.equal(1);
      for (const n of [2, 3]) {
        b.powerOn();
        expect(installed(b).version).to.equal("v2");
        expect(JSON.parse(status(b)).boots).to.equal(n);
      }
      b.output = "";
      b.powerOn(); // a fourth start with v2 still pending: v1 comes back before any app code
      expect(b.output.startsWith("app v1"), b.output).to.equal(true);
      expect(installed(b).version).to.equal("v1");
      expect(JSON.parse(status(b)).lastError).to.match(/started 3 times without confirm\(\)/);
    });

    it("keeps a release the app confirms, and deletes the files the old release had and the new one drops", async () => {
      const b = await installV1(board, opts, root);
      await publish(root, "p", "v2", app("v2", opts, `require("ota").confirm();`));
      b.powerOn();
      await b.run({ timeout: 10000 });
      for (let i = 0; i < 5; i++) b.powerOn();
      const s = installed(b);
      expect(s.version).to.equal("v2");
      expect(s.files).to.deep.equal({ ...app("v2", opts, `require("ota").confirm();`), "config.json": '{"user":"data"}' });
      expect(JSON.parse(status(b))).to.deep.include({ pending: false, boots: 0 });
    });

    it("confirms a healthy app that never calls confirm() after confirmAfter, and never rolls it back later", async () => {
      const b = await installV1(board, { ...opts, confirmAfter: undefined }, root); // the default: 60 s
      await publish(root, "p", "v2", app("v2", opts));
      b.powerOn();
      await b.run({ timeout: 5000 }); // board time: the install, and v2 running for a while
      expect(JSON.parse(status(b)).pending).to.equal(true);
      await b.settle({ timeout: 50000 }); // about 55 s since v2 started
      expect(JSON.parse(status(b)).pending).to.equal(true);
      await b.settle({ timeout: 10000 });
      expect(JSON.parse(status(b)).pending).to.equal(false);
      for (let i = 0; i < 6; i++) b.powerOn();
      expect(installed(b).version).to.equal("v2");
    });

    it("with keep: false keeps no copies and nothing is pending", async () => {
      const b = await installV1(board, { ...opts, keep: false }, root);
      await publish(root, "p", "v2", app("v2", { ...opts, keep: false }));
      b.powerOn();
      await b.run({ timeout: 10000 });
      const s = installed(b);
      expect(s.version).to.equal("v2");
      expect(b.flash.files().filter((f) => f.name.startsWith(".ota_"))).to.deep.equal([]);
      expect(JSON.parse(status(b)).pending).to.equal(false);
    });
  });
}

describe("power cut at every flash write of a rollback", function () {
  this.timeout(300000);
  for (const board of BOARDS) {
    it(`${board}: exactly one whole release after each cut, then v1`, async () => {
      const root = newRoot();
      const srv = await startOtaServer({ root });
      try {
        const opts = { host: srv.url, project: "p", confirmAfter: 0 };
        const b = await installV1(board, opts, root);
        const v1 = installed(b).files;
        await publish(root, "p", "v2", app("v2", opts, `throw new Error("v2 is broken");`));
        b.powerOn(); // v1 stages v2 and resets: v2 installs, runs, throws, and resets
        expect(await b.settle({ timeout: 10000 })).to.equal("reboot");
        b.powerOff();
        // The flash now holds a failed pending v2: the next start rolls back.
        const base: Flash = b.flash.clone();
        const v2 = installed(b).files;
        expect(installed(b).version).to.equal("v2");
        const count = otaBoard(board, { flash: base.clone() });
        const before = count.flash.opCount;
        count.runFile("");
        const ops = count.flash.opCount - before;
        expect(installed(count).version).to.equal("v1");
        expect(ops).to.be.greaterThan(5);
        let points = 0;
        for (const mid of [false, true]) {
          for (let k = 1; k <= ops; k++) {
            const t = otaBoard(board, { flash: base.clone() });
            t.cutPower(k, mid);
            t.runFile("");
            const probe = otaBoard(board, { flash: t.flash });
            probe.runFile(""); // power returns: the boot stage runs before the app
            const s = installed(probe);
            expect(s.files, `cut at write ${k}`).to.deep.equal(s.version === "v1" ? v1 : v2);
            expect(s.version, `cut at write ${k}`).to.equal("v1");
            points++;
          }
        }
        console.log(`      ${board}: ${points} power-cut points in the rollback`);
      } finally {
        await srv.close();
      }
    });
  }
});
