// Bad input gets a clear error with a stable code, and nothing installed is touched.
import { expect } from "chai";
import nock from "nock";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, sampleApp, publish, newRoot, installed } from "../harness/device.ts";
import { isStage } from "../modules/formats.ts";
import type { Board } from "../emulator/board.ts";

describe("update: bad input changes nothing", function () {
  let root: string, srv: OtaServer, b: Board, opts: any, before1: ReturnType<typeof installed>;

  before(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
    opts = { host: srv.url, project: "sample", files: [".bootcde", "main"], timeout: 400 };
    // v1.0.0 installed and running; the server then offers v2 with files that fail.
    await publish(root, "sample", "v1.0.0", sampleApp("v1.0.0", opts));
    b = otaBoard("ESP32");
    b.powerOn();
    await call(b, "update", opts);
    b.powerOn();
    await b.run({ timeout: 10000 });
    before1 = installed(b);
    expect(before1.version).to.equal("v1.0.0");
    // A server laid out by hand, as for micropython_ota: no manifest, so the device
    // relies on opts.files and Content-Length (manifests are tested in ota-verify).
    await publish(root, "sample", "v2", sampleApp("v2", opts));
    rmSync(join(root, "sample", "v2_manifest.txt"));
  });
  after(() => srv.close());
  afterEach(async () => {
    for (const k of Object.keys(srv.routes)) delete srv.routes[k];
    // Nothing installed changed, and no staging is left behind.
    expect(installed(b)).to.deep.equal(before1);
  });

  async function expectError(code: string, o: object = opts, pattern?: RegExp) {
    const r = await call(b, "update", o);
    expect(r.err, JSON.stringify(r)).to.be.an("object");
    expect(r.err!.code).to.equal(code);
    expect(r.err!.message).to.match(/^ota: /);
    if (pattern) expect(r.err!.message).to.match(pattern);
    return r.err!;
  }

  const badVersions: [string, string][] = [
    ["empty", ""],
    ["only whitespace", "  \n"],
    ["65 characters", "v".repeat(65)],
    ["a space inside", "v1 0"],
    ["a slash", "../etc"],
    ["an HTML page", "<html><body>Welcome to the hotel Wi-Fi</body></html>"],
  ];
  for (const [what, body] of badVersions) {
    it(`refuses a version file that is ${what} (EVERSION)`, async () => {
      srv.routes["/sample/version"] = { body };
      await expectError("EVERSION", opts, /version file/);
    });
  }

  it("accepts 64 characters of A-Za-z0-9._+- (and finds no such release: EHTTP 404)", async () => {
    srv.routes["/sample/version"] = { body: "A-z_0.9+" + "x".repeat(56) };
    await expectError("EHTTP", opts, /404/);
  });

  for (const status of [404, 500]) {
    it(`reports HTTP ${status} on the version file (EHTTP)`, async () => {
      srv.routes["/sample/version"] = { status, body: "no" };
      await expectError("EHTTP", opts, new RegExp(`HTTP ${status}.*/sample/version`));
    });
    it(`reports HTTP ${status} on a file of the release (EHTTP)`, async () => {
      srv.routes["/sample/v2_main"] = { status, body: "no" };
      await expectError("EHTTP", opts, new RegExp(`HTTP ${status}.*v2_main`));
    });
  }

  it("detects a truncated body, which Espruino reports as a normal end (ESIZE)", async () => {
    srv.routes["/sample/v2_main"] = { body: "x".repeat(3000), fault: { closeAfter: 1000 } };
    await expectError("ESIZE", opts, /1000 of 3000 bytes: .*v2_main/);
  });

  it("detects a body longer than its Content-Length (ESIZE)", async () => {
    srv.routes["/sample/v2_main"] = { body: "x".repeat(3000), fault: { extra: 700 } };
    await expectError("ESIZE", opts, /over 3000 bytes: .*v2_main/);
  });

  it("refuses an HTML error page served with 200 but the wrong length (ESIZE)", async () => {
    const page = "<html><body>Please log in to the captive portal</body></html>";
    srv.routes["/sample/v2_.bootcde"] = { body: page, headers: { "Content-Type": "text/html", "Content-Length": "20" } };
    await expectError("ESIZE", opts);
  });

  it("refuses a body with no Content-Length (ESIZE)", async () => {
    srv.routes["/sample/v2_main"] = { body: "abc", headers: { "Content-Length": "" } };
    await expectError("ESIZE", opts, /Content-Length/);
  });

  it("times out when the server stalls before the headers (ETIMEOUT)", async () => {
    srv.routes["/sample/version"] = { fault: { stallBeforeHeaders: true } };
    await expectError("ETIMEOUT", opts, /400 ms/);
  });

  it("times out when the server stalls mid-body (ETIMEOUT)", async () => {
    srv.routes["/sample/v2_main"] = { body: "x".repeat(5000), fault: { stallAfter: 1500 } };
    await expectError("ETIMEOUT", opts, /v2_main/);
  });

  it("reports a refused connection (ENET)", async () => {
    await expectError("ENET", { ...opts, host: "http://127.0.0.1:1" });
  });

  it("follows up to 3 redirects", async () => {
    srv.routes["/sample/version"] = { status: 302, headers: { Location: "/r1" } };
    srv.routes["/r1"] = { status: 301, headers: { Location: `${srv.url}/r2` } };
    srv.routes["/r2"] = { status: 307, headers: { Location: "/r3" } };
    srv.routes["/r3"] = { body: "v1.0.0" };
    const r = await call(b, "update", opts);
    expect(r.result).to.deep.include({ updated: false, version: "v1.0.0" });
  });

  it("stops after 3 redirects (EREDIRECT)", async () => {
    srv.routes["/sample/version"] = { status: 302, headers: { Location: "/sample/version" } };
    await expectError("EREDIRECT", opts);
  });

  it("refuses a file name longer than 28 characters (ENAME)", async () => {
    // the name is opts.files', so the message names no URL (the manifest's was a 404)
    await expectError("ENAME", { ...opts, files: ["a".repeat(29)] }, /^ota: bad file name: a{29}$/);
  });

  it("refuses a name Storage would strip as a drive letter, and the updater's own names (ENAME)", async () => {
    await expectError("ENAME", { ...opts, files: ["a:foo"] });
    await expectError("ENAME", { ...opts, files: [".otav"] });
    // (the boot stages are not among them: a release may carry new ones)
  });

  it("refuses no options at all (EOPTS), through the callback", async () => {
    await expectError("EOPTS", null as unknown as object, /bad opts\.host/);
  });

  it("refuses user without password (EOPTS)", async () => {
    await expectError("EOPTS", { ...opts, user: "ota" }, /user.*password/);
  });

  it("refuses a second update while one is running (EBUSY)", async () => {
    srv.routes["/sample/version"] = { fault: { stallBeforeHeaders: true } };
    b.exec(`require("ota").update(${JSON.stringify(opts)}, function(){});`);
    await expectError("EBUSY");
    await b.settle({ timeout: 1000 });
  });
});

describe("update: Storage full", function () {
  it("checks free Storage before downloading, and says how much is needed (ENOSPC)", async () => {
    const root = newRoot();
    const srv = await startOtaServer({ root });
    try {
      const opts = { host: srv.url, project: "big", files: ["blob"] };
      await publish(root, "big", "v1", { blob: Buffer.alloc(12000, 7) });
      const b = otaBoard("ESP8266_BOARD"); // 16 KB of Storage
      b.powerOn();
      const written = b.flash.counters.bytesWritten;
      const r = await call(b, "update", opts);
      expect(r.err?.code).to.equal("ENOSPC");
      expect(r.err?.message).to.match(/needs \d+ bytes, \d+ free/);
      expect(installed(b)).to.deep.include({ version: undefined, leftovers: [] });
      // only the manifest was written: no byte of the 12 KB release
      expect(b.flash.files().filter((f) => isStage(f.name))).to.deep.equal([]);
      expect(b.flash.counters.bytesWritten - written).to.be.lessThan(2500);
    } finally {
      await srv.close();
    }
  });
});

describe("update: Basic auth", function () {
  afterEach(() => nock.cleanAll());

  it("sends the Authorization header and the identity headers (nock)", async () => {
    const auth = "Basic " + Buffer.from("ota:s3cret").toString("base64");
    const scope = nock("http://ota.test")
      .matchHeader("authorization", auth)
      .matchHeader("x-ota-b", "ESP32")
      .matchHeader("x-ota-f", /^2v/)
      .get("/sample/version")
      .reply(200, "v9", { "Content-Length": "2" })
      .get("/sample/v9_manifest.txt")
      .reply(404, "no", { "Content-Length": "2" })
      .get("/sample/v9_app.js")
      .reply(200, "print(9)", { "Content-Length": "8" });
    const b = otaBoard("ESP32", { connectCheck: false });
    b.powerOn();
    const r = await call(b, "update", { host: "http://ota.test", project: "sample", files: ["app.js"], user: "ota", password: "s3cret", reset: "none" });
    expect(r).to.deep.equal({ result: { updated: true, version: "v9" } });
    scope.done();
  });

  it("gets 401 from a real server without credentials (EHTTP), and succeeds with them", async () => {
    const root = newRoot();
    const srv = await startOtaServer({ root, user: "ota", password: "s3cret" });
    try {
      await publish(root, "sample", "v1", { "app.js": "print(1)" });
      const b = otaBoard("ESP32");
      b.powerOn();
      const bad = await call(b, "update", { host: srv.url, project: "sample", files: ["app.js"] });
      expect(bad.err?.code).to.equal("EHTTP");
      expect(bad.err?.message).to.contain("401");
      const wrong = await call(b, "update", { host: srv.url, project: "sample", files: ["app.js"], user: "ota", password: "nope" });
      expect(wrong.err?.code).to.equal("EHTTP");
      expect(installed(b)).to.deep.include({ version: undefined, leftovers: [] });
      const ok = await call(b, "update", { host: srv.url, project: "sample", files: ["app.js"], user: "ota", password: "s3cret", reset: "none" });
      expect(ok.result).to.deep.equal({ updated: true, version: "v1" });
    } finally {
      await srv.close();
    }
  });
});
