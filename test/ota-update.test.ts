// The device module end to end on an emulated ESP32 against a real loopback server:
// the seed's example (v1.0.0 -> v1.0.1, then rollback by editing the version file),
// both layouts, check(), and the no-op path.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, sampleApp, publish, newRoot, installed } from "../harness/device.ts";
import type { Board } from "../emulator/board.ts";

for (const layout of ["prefix", "subdir"]) {
  describe(`update: the seed's example, ${layout} layout`, function () {
    let root: string, srv: OtaServer, b: Board, opts: object;
    before(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      opts = { host: srv.url, project: "sample", files: [".bootcde", "main"], layout };
      await publish(root, "sample", "v1.0.0", sampleApp("v1.0.0", opts), layout);
      b = otaBoard("ESP32");
    });
    after(() => srv.close());

    it("installs v1.0.0 on a board that has no version yet, then resets into it", async () => {
      b.powerOn();
      const r = await call(b, "update", opts);
      expect(r).to.deep.equal({ result: { updated: true, version: "v1.0.0" } });
      // Nothing is switched until the reset: the app must not run from files being rewritten.
      expect(installed(b).version).to.equal(undefined);
      await b.run({ timeout: 10000 });
      expect(b.output).to.contain("boot v1.0.0").and.contain("main v1.0.0");
      const s = installed(b);
      expect(s.version).to.equal("v1.0.0");
      expect(s.files).to.deep.equal(sampleApp("v1.0.0", opts));
      expect(s.leftovers).to.deep.equal([]);
    });

    it("uses the layout's URLs", () => {
      const paths = srv.requests.map((r) => r.path);
      expect(paths).to.include("/sample/version");
      expect(paths).to.include(layout == "prefix" ? "/sample/v1.0.0_.bootcde" : "/sample/v1.0.0/.bootcde");
      expect(paths).to.include(layout == "prefix" ? "/sample/v1.0.0_main" : "/sample/v1.0.0/main");
    });

    it("updates to v1.0.1 at the next boot, and the new app runs", async () => {
      await publish(root, "sample", "v1.0.1", sampleApp("v1.0.1", opts), layout);
      b.output = "";
      b.powerOn();
      await b.run({ timeout: 10000 });
      expect(b.output).to.contain("boot v1.0.0").and.contain("boot v1.0.1").and.contain("main v1.0.1");
      expect(b.output).not.to.contain("main v1.0.0");
      const s = installed(b);
      expect(s).to.deep.include({ version: "v1.0.1", previous: "v1.0.0", leftovers: [] });
      expect(s.files).to.deep.equal(sampleApp("v1.0.1", opts));
    });

    it("is a no-op when the server's version is installed: one request, no flash write", async () => {
      const ops = b.flash.opCount;
      const n = srv.requests.length;
      const r = await call(b, "update", opts);
      expect(r).to.deep.equal({ result: { updated: false, version: "v1.0.1", previous: "v1.0.0" } });
      expect(srv.requests.length - n).to.equal(1);
      expect(b.flash.opCount).to.equal(ops);
    });

    it("rolls back to v1.0.0 when the server's version file is edited back", async () => {
      writeFileSync(join(root, "sample", "version"), "v1.0.0\n");
      b.output = "";
      b.powerOn();
      await b.run({ timeout: 10000 });
      expect(b.output).to.contain("main v1.0.0");
      const s = installed(b);
      expect(s).to.deep.include({ version: "v1.0.0", previous: "v1.0.1", leftovers: [] });
      expect(s.files).to.deep.equal(sampleApp("v1.0.0", opts));
    });
  });
}

describe("check", function () {
  let root: string, srv: OtaServer, b: Board, opts: any;
  before(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
    opts = { host: srv.url, project: "sample", files: [".bootcde", "main"], reset: "none" };
    await publish(root, "sample", "v1.0.0", sampleApp("v1.0.0", opts));
    b = otaBoard("ESP32");
    b.powerOn();
  });
  after(() => srv.close());

  it("reports an available release and, with reset 'none', does not reset", async () => {
    const r = await call(b, "check", opts);
    expect(r).to.deep.equal({ result: { available: true, latest: "v1.0.0" } });
    expect(await b.settle({ timeout: 300 })).to.equal("idle");
  });

  it("resets (hard by default) when a release is available, so boot code installs it", async () => {
    const r = await call(b, "check", { host: opts.host, project: "sample" });
    expect(r.result.available).to.equal(true);
    expect(await b.settle({ timeout: 2000 })).to.equal("reboot");
  });

  it("reports nothing new once installed, and version() agrees", async () => {
    b.powerOn();
    await call(b, "update", opts);
    b.powerOn();
    await b.run({ timeout: 10000 });
    expect(b.exec(`require("ota").version()`)).to.equal("v1.0.0");
    const r = await call(b, "check", opts);
    expect(r).to.deep.equal({ result: { available: false, installed: "v1.0.0", latest: "v1.0.0" } });
  });

  it("returns a Promise as well", async () => {
    b.exec(`require("ota").check(${JSON.stringify(opts)}).then(function (r) { print("promise " + r.latest); });`);
    await b.settle({ timeout: 2000 });
    expect(b.output).to.contain("promise v1.0.0");
  });
});

describe("update: what the app sees", function () {
  let root: string, srv: OtaServer, b: Board, opts: any;
  before(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
    opts = { host: srv.url, project: "p", files: ["big"], reset: "none" };
    await publish(root, "p", "v1", { big: Buffer.alloc(3000, 0x5a) });
    b = otaBoard("ESP8266_4MB");
    b.powerOn();
  });
  after(() => srv.close());

  it("reports progress per stored chunk through opts.onProgress, chunks no larger than the board's", async () => {
    b.exec(`var prog = []; require("ota").update({host: ${JSON.stringify(srv.url)}, project: "p", files: ["big"], reset: "none",
      onProgress: function (f, done, total) { prog.push(f + ":" + done + "/" + total); }}, function (e, r) { print("done " + (e ? e.code : r.version)); });`);
    await b.settle({ timeout: 5000 });
    expect(b.output).to.contain("done v1");
    const prog = b.exec("prog") as string[];
    expect(prog[prog.length - 1]).to.equal("big:3000/3000");
    const steps = prog.map((p) => +p.split(":")[1].split("/")[0]);
    for (let i = 1; i < steps.length; i++) expect(steps[i] - steps[i - 1]).to.be.within(1, 268);
  });

  it("leaves the app's timers alone (Espruino's clearTimeout() without an id clears them all)", async () => {
    b.exec(`var ticks = 0; setInterval(function () { ticks++; }, 100);`);
    const r = await call(b, "check", opts);
    expect(r.result).to.deep.include({ available: true });
    const before = b.exec("ticks") as number;
    await b.settle({ timeout: 1000 });
    expect((b.exec("ticks") as number) - before).to.be.greaterThan(5);
  });
});

describe("update: the boot stages", function () {
  // npm run flash writes them; a release may carry new ones (release --with-ota), which
  // update() installs itself, never the boot stage (it must not rewrite the file it runs from).
  let root: string, srv: OtaServer;
  const opts = () => ({ host: srv.url, project: "p", reset: "none" });
  beforeEach(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
  });
  afterEach(async () => srv.close());

  it("are required: without them nothing is staged (EBOOT), and the board is as it was", async () => {
    for (const missing of [".boot0", ".bootPowerOn"]) {
      const b = otaBoard("ESP32");
      b.flash.erase(missing);
      b.powerOn();
      await publish(root, "p", `v-${missing}`, { "app.js": "print(1)" });
      const before = installed(b);
      const r = await call(b, "update", opts());
      expect(r.err?.code, JSON.stringify(r)).to.equal("EBOOT");
      expect(r.err!.message).to.include(missing);
      expect(installed(b)).to.deep.equal(before);
    }
  });

  it("that a release carries are installed by update() at COMMIT, and left alone when unchanged", async () => {
    const b = otaBoard("ESP32");
    b.powerOn();
    const boot = b.flash.readFile(".boot0")!.toString("latin1");
    // a new boot stage: the current one, and a mark that it is the one that ran
    const newer = boot + ";print('newer boot stage');";
    await publish(root, "p", "v1", { "app.js": "print(1)", ".boot0": newer });
    expect((await call(b, "update", opts())).result).to.deep.include({ updated: true });
    expect(b.flash.readFile(".boot0")!.toString("latin1")).to.equal(newer);
    b.powerOn();
    expect(b.output).to.include("newer boot stage");
    expect(installed(b).version).to.equal("v1");
    const written: string[] = [];
    b.probe = { write: (name) => written.push(name) };
    await publish(root, "p", "v2", { "app.js": "print(2)", ".boot0": newer });
    expect((await call(b, "update", opts())).result).to.deep.include({ updated: true, version: "v2" });
    expect(written).to.include(".otaj");
    expect(written).not.to.include(".boot0");
  });

  it("are never rewritten by the boot stage, not even when it rolls back to a release without them", async () => {
    const b = otaBoard("ESP32");
    b.powerOn();
    const boot = b.flash.readFile(".boot0")!.toString("latin1");
    await publish(root, "p", "v1", { ".bootcde": "print(1)" });
    expect((await call(b, "update", opts())).result).to.deep.include({ updated: true });
    b.powerOn();
    const newer = boot + ";print('newer boot stage');";
    await publish(root, "p", "v2", { ".bootcde": "throw new Error('v2 is broken')", ".boot0": newer });
    expect((await call(b, "update", { ...opts(), confirmAfter: 0 })).result).to.deep.include({ updated: true });
    b.powerOn(); // installs v2, whose app throws: the boot stage rolls back at the next start
    await b.settle({ timeout: 500 });
    b.powerOn();
    await b.settle({ timeout: 200 });
    expect(installed(b).version).to.equal("v1");
    // v1 did not carry a boot stage, and the rollback did not delete or rewrite the new one
    expect(b.flash.readFile(".boot0")!.toString("latin1")).to.equal(newer);
  });
});
