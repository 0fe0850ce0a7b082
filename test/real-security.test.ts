// Issue 10, the board's side, on the REAL Espruino interpreter (harness/real-board.ts): its
// http client, regex engine and Storage, where the emulator could differ. The emulator's side,
// on each board profile, is test/ota-security.test.ts.
//   1. Basic auth and X-Ota-* only to opts.host's origin; https -> http is EREDIRECT; relative
//      Locations resolved as RFC 3986 says (resolve() leans on Espruino's regexes);
//   2. with opts.key a pending board is left byte for byte by an unsigned or wrongly signed
//      release, and check() verifies before it reports or resets;
//   3. a Content-Length that is not a number is ESIZE (and what Espruino's parser makes of
//      blanks and empty values);
//   4. a rollback re-signed with the key (rollback --key) is installed.
// Runs only with ESPRUINO_BIN (harness/gate.ts says so loudly otherwise, and fails under CI).
import { expect } from "chai";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeReal } from "../harness/gate.ts";
import { RealBoard, markOf } from "../harness/real-board.ts";
import { publish, newRoot } from "../harness/device.ts";
import { startOtaServer, type OtaServer, type SeenRequest } from "../harness/ota-server.ts";
import { rollback } from "../tools/rollback.ts";
import { selfSignedCert } from "../tools/lib/tls.ts";
import { FLASHED, FILES, app, drive, STATUS, storageProbe, boardWithV1, install } from "../harness/real-drive.ts";

const KEY = "fleet key, one per product";
const USER = "fleet";
const PASSWORD = "s3cret";
const SECRET_HEADERS = ["authorization", "x-ota-b", "x-ota-f", "x-ota-id", "x-ota-v"];

const secretsOf = (r: SeenRequest) => Object.keys(r.headers).map((k) => k.toLowerCase()).filter((k) => SECRET_HEADERS.includes(k)).sort();

/** Device code: `fn` with each of `optsList` in turn, marking tag with {<label>: code or result} at the end. */
function driveEach(tag: string, fn: "update" | "check", runs: Record<string, object>): string {
  return `(function () {
  var runs = ${JSON.stringify(runs)}, labels = Object.keys(runs), out = {}, i = 0;
  function next() {
    if (i == labels.length) return mark(${JSON.stringify(tag)}, out);
    var l = labels[i++];
    require("ota").${fn}(runs[l], function (e, r) { out[l] = e ? e.code + " " + e.message : r; setTimeout(next, 1); });
  }
  next();
})();`;
}

describeReal("real interpreter: issue 10 on the board", function () {
  this.timeout(120_000);
  let root: string, origin: OtaServer, other: OtaServer;
  const boards: RealBoard[] = [];
  before(async () => {
    root = newRoot();
    origin = await startOtaServer({ root, user: USER, password: PASSWORD });
    other = await startOtaServer({ root });
  });
  after(async () => {
    await origin.close();
    await other.close();
    for (const b of boards) b.dispose();
  });
  afterEach(() => {
    for (const s of [origin, other]) for (const k of Object.keys(s.routes)) delete s.routes[k];
  });
  async function v1Board(project: string, opts: object, key?: string): Promise<RealBoard> {
    const b = await boardWithV1(root, project, opts, key);
    boards.push(b);
    return b;
  }
  /** A board with only the updater's files, as npm run flash leaves it. */
  async function flashedBoard(): Promise<RealBoard> {
    const b = new RealBoard();
    boards.push(b);
    await b.store(FLASHED);
    return b;
  }

  it("1: follows a redirect to another origin without Basic auth or X-Ota-* headers, which the origin gets", async () => {
    const opts = { host: origin.url, project: "s1", files: FILES, user: USER, password: PASSWORD, reset: "none", confirmAfter: 0 };
    const b = await v1Board("s1", opts);
    await publish(root, "s1", "v2", app("v2"));
    const paths = ["/s1/version", "/s1/v2_manifest.txt", "/s1/v2_.bootcde", "/s1/v2_lib.js"];
    for (const path of paths) origin.routes[path] = { status: 302, headers: { Location: other.url + path } };
    const seen = origin.requests.length;
    expect(markOf(await b.start(drive("update", opts)), "update")).to.deep.include({ updated: true, version: "v2" });
    for (const q of other.requests) expect(secretsOf(q), q.path).to.deep.equal([]);
    for (const q of origin.requests.slice(seen)) expect(secretsOf(q), q.path).to.deep.equal(SECRET_HEADERS);
    expect(other.requests.map((q) => q.path)).to.deep.equal(paths);
    expect(markOf(await b.start(""), "boot")).to.equal("v2");
  });

  it("1: resolves relative Locations as RFC 3986 says, with Espruino's regex engine", async () => {
    const a = await startOtaServer();
    try {
      const host = `${a.url}/b/c`;
      const o = `//127.0.0.1:${other.port}`;
      // the Locations of test/ota-security.test.ts, whose targets are written out there
      const refs = ["/abs", "rel", "../up", "./same", "?query=1", `${o}/path`, `${a.url}/an/absolute`, "../../g/./h/../i", "../../../../../top", "..", "x/.", "x/..",
        "/./m/../n", "rel?x=../y", "frag#../no", `${o}/p/../q`, `${a.url}/s/./t/../u`];
      const runs: Record<string, object> = {}, want: Record<string, string> = {};
      refs.forEach((ref, i) => {
        // one project per Location, so that one start asks them all: the base is <a>/b/c/d<i>/version
        const project = `d${i}`;
        a.routes[`/b/c/${project}/version`] = { status: 302, headers: { Location: ref } };
        const target = new URL(ref, `${host}/${project}/version`);
        target.hash = "";
        const at = target.href.startsWith(a.url) ? a : other;
        at.routes[target.href.slice(at.url.length)] = { body: `r${i}` };
        runs[ref] = { host, project, reset: "none" };
        want[ref] = `r${i}`;
      });
      const got = markOf(await (await flashedBoard()).start(driveEach("resolved", "check", runs)), "resolved");
      for (const ref of refs) if (typeof got[ref] == "object") got[ref] = got[ref].latest;
      expect(got).to.deep.equal(want);
    } finally {
      await a.close();
    }
  });

  /** Runs `body` with an HTTPS server: s2/version redirects to `other` over http, s3/version to s3/live, which holds "v7". */
  async function withTls(body: (host: string) => Promise<void>): Promise<void> {
    const tlsDir = mkdtempSync(join(tmpdir(), "ota-tls-"));
    const tls = await selfSignedCert(["127.0.0.1"], tlsDir);
    const srv = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const to = req.url == "/s2/version" ? `http://127.0.0.1:${other.port}/s2/version` : req.url == "/s3/version" ? "/s3/live" : undefined;
      const body = req.url == "/s3/live" ? "v7" : "";
      res.writeHead(to ? 302 : body ? 200 : 404, { "Content-Length": String(body.length), ...(to ? { Location: to } : {}) });
      res.end(body);
    });
    await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
    try {
      await body(`https://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    } finally {
      await new Promise<void>((ok) => srv.close(() => ok()));
      rmSync(tlsDir, { recursive: true, force: true });
    }
  }

  it("1: refuses an https:// -> http:// redirect (EREDIRECT), and follows https:// -> https://", async () => {
    await withTls(async (host) => {
      const seen = other.requests.length;
      const got = markOf(await (await flashedBoard()).start(driveEach("checked", "check", { down: { host, project: "s2", reset: "none" }, up: { host, project: "s3", reset: "none" } })), "checked");
      expect(got.down).to.match(/^EREDIRECT ota: to http:/);
      expect(got.up).to.deep.include({ available: true, latest: "v7" });
      expect(other.requests.slice(seen)).to.deep.equal([]);
    });
  });

  // mbedTLS takes its buffers as runs of contiguous JsVars (jsvMalloc). At its start and after
  // each request the module collects garbage, which sorts the free list by address; without
  // that, the JsVars a closed connection freed were handed out piecemeal (to the module, and
  // here to the app between checks), and in most layouts the next HTTPS connection found no
  // run long enough (the interpreter stops on an ASSERT).
  it("makes HTTPS connection after connection, whatever the app allocates between them", async () => {
    await withTls(async (host) => {
      const runs = 8;
      const got = markOf(
        await (await flashedBoard()).start(`(function () {
  var held = [], out = [];
  function next() {
    if (out.length == ${runs}) return mark("checks", out);
    // a different layout each time: the app keeps a few more objects
    for (var i = 0; i < 3 * out.length + 1; i++) held.push({ n: i });
    require("ota").check(${JSON.stringify({ host, project: "s3", reset: "none" })}, function (e, r) {
      out.push(e ? e.code + " " + e.message : r.latest);
      setTimeout(next, 1);
    });
  }
  next();
})();`),
        "checks",
      );
      expect(got).to.deep.equal(Array(runs).fill("v7"));
    });
  });

  it("2: a pending board with opts.key: unsigned or wrongly signed releases change no byte of Storage; check() verifies and does not reset", async () => {
    // maxBoots 10: every start of the harness is a real start, and counts against the trial
    const opts = { host: other.url, project: "s4", files: FILES, reset: "none", confirmAfter: 0, maxBoots: 10 };
    const b = await v1Board("s4", opts, KEY);
    const v2 = await install(b, root, "s4", "v2", app("v2"), opts, STATUS, KEY);
    expect(markOf(v2, "status")).to.deep.include({ version: "v2", previous: "v1", pending: true });
    const keyed = { ...opts, key: KEY };
    await publish(root, "s4", "v3", { ...app("v3"), ".boot0": "print('owned')" });
    const s = await b.start(`${storageProbe("before")}\n${drive("update", keyed, `${storageProbe("after")} ${drive("check", { ...keyed, reset: "hard" })}`)}`);
    const before = markOf(s, "before");
    for (const name of [".otan", ".boot0", ".bootPowerOn"]) expect(before, name).to.have.property(name);
    expect(Object.keys(before).filter((f) => f.startsWith(".ota_")).length, "the copies").to.be.at.least(4);
    expect(markOf(s, "after")).to.deep.equal(before);
    expect(markOf(s, "update")).to.deep.include({ code: "ESIG" });
    expect(markOf(s, "check")).to.deep.include({ code: "ESIG" });
    expect(s.end).to.equal("idle"); // no reset
    await publish(root, "s4", "v4", app("v4"), "prefix", "another key");
    const s4 = await b.start(`${storageProbe("before")}\n${drive("update", keyed, storageProbe("after"))}`);
    expect(markOf(s4, "update").message).to.match(/wrong signature/);
    expect(markOf(s4, "after")).to.deep.equal(markOf(s4, "before"));
    // the trial still works: v2 fails, the next start is v1 again
    const fail = await b.start(`setTimeout(function () { throw new Error("v2 fails later"); }, 10);`);
    expect(fail.end).to.equal("reboot");
    const back = await b.start(STATUS);
    expect(markOf(back, "boot")).to.equal("v1");
    expect(markOf(back, "status").lastError).to.match(/rolled back v2 to v1: uncaught Error: v2 fails later/);
  });

  it("3: a Content-Length that is not a number is ESIZE on the version file, the manifest and a release file", async () => {
    const opts = { host: other.url, project: "s5", files: FILES, reset: "none" };
    const b = await v1Board("s5", opts);
    const values = ["12abc", "-5", "12 ", "1 2", "0x10", "1e2", "+12"];
    const runs: Record<string, object> = {};
    for (const target of ["version", "v2_manifest.txt", "v2_lib.js"]) {
      for (const value of values) {
        // one project per case, each offering its v2 with that one header
        const project = `cl${Object.keys(runs).length}`;
        await publish(root, project, "v2", app("v2"));
        const path = `/${project}/${target}`;
        other.routes[path] = { body: readFileSync(join(root, path)), headers: { "Content-Length": value } };
        runs[`${target} "${value}"`] = { ...opts, project };
      }
    }
    const s = await b.start(`${storageProbe("before")}\n${driveEach("sizes", "update", runs)}\n`);
    const got = markOf(s, "sizes");
    const codes = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, typeof v == "string" ? v.split(" ")[0] : JSON.stringify(v)]));
    expect(codes).to.deep.equal(Object.fromEntries(Object.keys(runs).map((k) => [k, "ESIZE"])));
    const after = await b.start(storageProbe("after"));
    expect(markOf(after, "boot")).to.equal("v1");
    expect(markOf(after, "after")).to.deep.equal(markOf(s, "before"));
  });

  it("4: a rollback re-signed with the key (rollback --key) is installed; without the key it is refused (EREJECTED)", async () => {
    const opts = { host: other.url, project: "s6", files: FILES, reset: "none", confirmAfter: 0, key: KEY };
    const b = await v1Board("s6", opts, KEY);
    await install(b, root, "s6", "v2", app("v2"), opts, `require("ota").confirm();`, KEY);
    await rollback({ root, project: "s6", version: "v1" });
    expect(markOf(await b.start(drive("update", opts)), "update")).to.deep.include({ code: "EREJECTED" });
    expect(await rollback({ root, project: "s6", version: "v1", key: KEY })).to.deep.include({ resigned: true, seq: 3 });
    expect(markOf(await b.start(drive("update", opts)), "update")).to.deep.include({ updated: true, version: "v1" });
    expect(markOf(await b.start(""), "boot")).to.equal("v1");
    writeFileSync(join(root, "s6", "version"), "v2"); // v2 (seq 2) put back: a replay now
    expect(markOf(await b.start(drive("update", opts)), "update").message).to.match(/seq 2 is not above 3/);
  });
});
