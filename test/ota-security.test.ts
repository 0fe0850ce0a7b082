// Issue 10, the board's side (items 1-5), on the emulated boards: what a server, a redirect
// or a copy of an old release can make a board do. Each test shows the attack refused or the
// bad input rejected with a clear error, and nothing on the board lost or changed.
//   1. Basic auth and the X-Ota-* identity headers go only to the origin of opts.host; an
//      https -> http redirect is EREDIRECT; relative Locations resolve as RFC 3986 says.
//   2. With opts.key nothing changes on the board before the signature is verified (a pending
//      release keeps its trial, its copies and its boot stages), and check() verifies too.
//   3. A Content-Length that is not a number is ESIZE, never NaN.
//   4. (project and seq signed: test/ota-verify.test.ts) a rollback re-signed with the key.
//   5. The signature is compared over every character, wherever it differs.
// The real interpreter's side of 1-4 is test/real-security.test.ts.
import { expect } from "chai";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOtaServer, type OtaServer, type SeenRequest } from "../harness/ota-server.ts";
import { otaBoard, call, publish, newRoot, installed, BOARDS } from "../harness/device.ts";
import { parseManifest, manifestText, type Manifest } from "../modules/formats.ts";
import { rollback } from "../tools/rollback.ts";
import { selfSignedCert } from "../tools/lib/tls.ts";
import type { Board, BoardName } from "../emulator/board.ts";
import type { Flash } from "../emulator/flash-memory.ts";

const KEY = "fleet key, one per product";
const USER = "fleet";
const PASSWORD = "s3cret";
/** The headers that identify or authenticate a board (lower case). */
const SECRET_HEADERS = ["authorization", "x-ota-v", "x-ota-b", "x-ota-f", "x-ota-id"];
/** Boards that can check a signature (ESP8266_BOARD has no crypto: opts.key is EOPTS there, ota-verify). */
const SIGNING: BoardName[] = ["ESP32", "ESP8266_4MB"];

const app = (v: string) => ({ ".bootcde": `print("app ${v}");`, "lib.js": `exports.v = "${v}";` + "/".repeat(300) });

/** Which of the identifying headers a request carried, by lower-case name. */
function secretsOf(r: SeenRequest): string[] {
  return Object.keys(r.headers).map((k) => k.toLowerCase()).filter((k) => SECRET_HEADERS.includes(k)).sort();
}

/** Every Storage file and its bytes, to compare a board before and after. */
function storage(b: Board): Record<string, string> {
  return Object.fromEntries(b.flash.files().map((f) => [f.name, f.data.toString("latin1")]));
}

const status = (b: Board) => JSON.parse(b.exec(`JSON.stringify(require("ota").status())`) as string);

/** A board running v1 of project "p" from srv, installed by update() and started. */
async function boardWithV1(board: BoardName, opts: object, root: string, key?: string): Promise<Board> {
  await publish(root, "p", "v1", app("v1"), "prefix", key);
  const b = otaBoard(board);
  b.powerOn();
  expect((await call(b, "update", opts)).result).to.deep.include({ updated: true, version: "v1" });
  b.powerOn();
  expect(installed(b).version).to.equal("v1");
  return b;
}

/** Runs `body` with a loopback server and a board running v1 of "p", signed and installed with the key. */
async function withSignedV1(board: BoardName, body: (b: Board, root: string, opts: object) => Promise<void>): Promise<void> {
  const root = newRoot();
  const srv = await startOtaServer({ root });
  try {
    const opts = { host: srv.url, project: "p", key: KEY, reset: "none" };
    await body(await boardWithV1(board, opts, root, KEY), root, opts);
  } finally {
    await srv.close();
  }
}

for (const board of BOARDS) {
  describe(`issue 10.1: credentials and identity go only to opts.host's origin, ${board}`, function () {
    this.timeout(30000);
    let root: string, origin: OtaServer, other: OtaServer;
    beforeEach(async () => {
      root = newRoot();
      origin = await startOtaServer({ root, user: USER, password: PASSWORD });
      other = await startOtaServer({ root }); // another port of the same loopback host: another origin
    });
    afterEach(async () => {
      await origin.close();
      await other.close();
    });
    // (files: what a release without a manifest holds; these have one, which names the same)
    const opts = () => ({ host: origin.url, project: "p", files: [".bootcde", "lib.js"], user: USER, password: PASSWORD, reset: "none" });

    it("follows redirects to another origin (a CDN) without Basic auth or X-Ota-* headers, and installs from it", async () => {
      const b = await boardWithV1(board, opts(), root);
      await publish(root, "p", "v2", app("v2"));
      // the origin answers everything with a redirect to the same path on the other server
      for (const path of ["/p/version", "/p/v2_manifest.txt", "/p/v2_.bootcde", "/p/v2_lib.js"])
        origin.routes[path] = { status: 302, headers: { Location: other.url + path } };
      const seen = origin.requests.length;
      const r = await call(b, "update", opts());
      expect(r.result, JSON.stringify(r)).to.deep.include({ updated: true, version: "v2" });
      // the other origin got the requests without any identifying header; the origin, with all of them
      for (const q of other.requests) expect(secretsOf(q), q.path).to.deep.equal([]);
      const atOrigin = origin.requests.slice(seen);
      for (const q of atOrigin) expect(secretsOf(q), q.path).to.deep.equal(SECRET_HEADERS.slice().sort());
      expect(atOrigin.map((q) => q.path)).to.deep.equal(["/p/version", "/p/v2_manifest.txt", "/p/v2_.bootcde", "/p/v2_lib.js"]);
      expect(other.requests.map((q) => q.path)).to.deep.equal(atOrigin.map((q) => q.path));
      b.powerOn();
      expect(installed(b)).to.deep.include({ version: "v2", files: app("v2"), leftovers: [] });
    });

    it("takes another host name for the same server as another origin, and keeps the credentials on a same-origin redirect", async () => {
      const b = otaBoard(board);
      b.powerOn();
      // same origin (a relative Location): credentials go along, the origin's auth passes
      origin.routes["/p/version"] = { status: 301, headers: { Location: "/p/live" } };
      origin.routes["/p/live"] = { body: "v5" };
      expect((await call(b, "check", opts())).result).to.deep.include({ available: true, latest: "v5" });
      expect(secretsOf(origin.requests[origin.requests.length - 1])).to.include("authorization");
      // "localhost" reaches the same server, but it is not the origin "127.0.0.1": no credentials, 401
      origin.routes["/p/version"] = { status: 302, headers: { Location: `http://localhost:${origin.port}/p/live` } };
      const r = await call(b, "check", opts());
      expect(r.err?.code, JSON.stringify(r)).to.equal("EHTTP");
      expect(r.err!.message).to.match(/401.*localhost/);
      const last = origin.requests[origin.requests.length - 1];
      expect(last.headers.Host).to.equal(`localhost:${origin.port}`);
      expect(secretsOf(last)).to.deep.equal([]);
    });
  });

  describe(`issue 10.1: relative Locations resolve as RFC 3986 (section 5.2) says, ${board}`, function () {
    this.timeout(60000);
    let a: OtaServer, other: OtaServer, b: Board;
    before(async () => {
      a = await startOtaServer();
      other = await startOtaServer();
      b = otaBoard(board);
      b.powerOn();
    });
    after(async () => {
      await a.close();
      await other.close();
    });

    it("reaches each redirect's target, which exists only at the correctly resolved URL", async () => {
      // opts.host has a path, so the URL that answers (the base) is <a>/b/c/d/version
      const host = `${a.url}/b/c`;
      const base = `${host}/d/version`;
      const o = `//127.0.0.1:${other.port}`;
      // [Location, the URL it names]: RFC 3986 5.2.2 (merge, remove_dot_segments), 5.4
      const cases: [string, string][] = [
        ["/abs", `${a.url}/abs`],
        ["rel", `${a.url}/b/c/d/rel`],
        ["../up", `${a.url}/b/c/up`],
        ["./same", `${a.url}/b/c/d/same`],
        ["?query=1", `${a.url}/b/c/d/version?query=1`],
        [`${o}/path`, `http:${o}/path`],
        [`${a.url}/an/absolute`, `${a.url}/an/absolute`],
        ["../../g/./h/../i", `${a.url}/b/g/i`],
        ["../../../../../top", `${a.url}/top`],
        ["..", `${a.url}/b/c/`],
        ["x/.", `${a.url}/b/c/d/x/`],
        ["x/..", `${a.url}/b/c/d/`],
        ["/./m/../n", `${a.url}/n`],
        ["rel?x=../y", `${a.url}/b/c/d/rel?x=../y`],
        ["frag#../no", `${a.url}/b/c/d/frag`],
        [`${o}/p/../q`, `http:${o}/q`],
        [`${a.url}/s/./t/../u`, `${a.url}/s/u`],
      ];
      const got: Record<string, string> = {}, want: Record<string, string> = {};
      for (let i = 0; i < cases.length; i++) {
        const [ref, target] = cases[i];
        // the table itself agrees with an independent resolver (WHATWG URL, which agrees with RFC 3986
        // here); a fragment is never sent
        const u = new URL(ref, base);
        u.hash = "";
        expect(u.href, ref).to.equal(target);
        for (const s of [a, other]) for (const k of Object.keys(s.routes)) delete s.routes[k];
        a.routes["/b/c/d/version"] = { status: 302, headers: { Location: ref } };
        const at = target.startsWith(a.url) ? a : other;
        at.routes[target.slice(at.url.length)] = { body: `r${i}` };
        const r = await call(b, "check", { host, project: "d", reset: "none" });
        got[ref] = r.err ? `${r.err.code} ${r.err.message}` : r.result.latest;
        want[ref] = `r${i}`;
      }
      expect(got).to.deep.equal(want);
    });
  });
}

describe("issue 10.1: an https:// -> http:// redirect is EREDIRECT, ESP32 (the ESP8266 has no TLS)", function () {
  this.timeout(60000);
  let tlsSrv: https.Server, url: string, plain: OtaServer, tlsDir: string;
  const routes: Record<string, { status: number; location?: string; body?: string }> = {};
  const seen: SeenRequest[] = [];
  before(async () => {
    tlsDir = mkdtempSync(join(tmpdir(), "ota-tls-"));
    const tls = await selfSignedCert(["127.0.0.1"], tlsDir);
    tlsSrv = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      seen.push({ path: req.url ?? "/", headers: req.headers as Record<string, string> });
      const r = routes[req.url ?? "/"] ?? { status: 404, body: "no" };
      const body = Buffer.from(r.body ?? "");
      res.writeHead(r.status, { "Content-Length": String(body.length), ...(r.location ? { Location: r.location } : {}) });
      res.end(body);
    });
    await new Promise<void>((ok) => tlsSrv.listen(0, "127.0.0.1", ok));
    url = `https://127.0.0.1:${(tlsSrv.address() as AddressInfo).port}`;
    plain = await startOtaServer();
  });
  after(async () => {
    await new Promise<void>((ok) => tlsSrv.close(() => ok()));
    await plain.close();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it("refuses to follow HTTPS to HTTP (any case of the scheme), so nothing goes out in clear text; HTTPS to HTTPS is followed", async () => {
    const b = otaBoard("ESP32");
    b.powerOn();
    const opts = { host: url, project: "p", user: USER, password: PASSWORD, reset: "none" };
    for (const location of [`${plain.url}/p/version`, `HTTP://127.0.0.1:${plain.port}/p/version`]) {
      routes["/p/version"] = { status: 302, location };
      const r = await call(b, "check", opts);
      expect(r.err?.code, JSON.stringify(r)).to.equal("EREDIRECT");
      expect(r.err!.message).to.include(location);
    }
    expect(plain.requests, "the http:// server was reached").to.deep.equal([]);
    routes["/p/version"] = { status: 307, location: "/p/live" };
    routes["/p/live"] = { status: 200, body: "v3" };
    expect((await call(b, "check", opts)).result).to.deep.include({ available: true, latest: "v3" });
    expect(secretsOf(seen[seen.length - 1])).to.include("authorization");
  });
});

for (const board of SIGNING) {
  describe(`issue 10.2: with opts.key nothing changes before the signature is verified, ${board}`, function () {
    this.timeout(60000);
    let root: string, srv: OtaServer, opts: any;
    const manifestPath = (v: string) => join(root, "p", `${v}_manifest.txt`);
    const editManifest = (v: string, f: (m: Manifest) => void) => {
      const m = parseManifest(readFileSync(manifestPath(v), "latin1")) as Manifest;
      f(m);
      writeFileSync(manifestPath(v), manifestText(m), "latin1");
    };
    beforeEach(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      // confirmAfter 0: the trial lasts until confirm(), so only the updater could end it.
      // (files: what a release without a manifest holds; these have one, which names the same)
      opts = { host: srv.url, project: "p", files: [".bootcde", "lib.js"], reset: "none", confirmAfter: 0 };
    });
    afterEach(() => srv.close());

    /** v1, then v2 (both signed) installed by update() with `o` and started: pending, with v1's copies to roll back to. */
    async function pendingBoard(o: object): Promise<Board> {
      const b = await boardWithV1(board, o, root, KEY);
      await publish(root, "p", "v2", app("v2"), "prefix", KEY);
      expect((await call(b, "update", o)).result).to.deep.include({ updated: true, version: "v2" });
      b.powerOn();
      expect(status(b)).to.deep.include({ version: "v2", previous: "v1", pending: true });
      const st = installed(b).state;
      expect(b.flash.files().some((f) => f.name.startsWith(`.ota_${st.o}`)), "v1's copies").to.equal(true);
      const before = storage(b);
      for (const name of [".otan", ".boot0", ".bootPowerOn"]) expect(before, name).to.have.property(name);
      return b;
    }

    /** check() with the key and reset "hard" is refused with `code`, after fetching the manifest; no reset, nothing written. */
    async function checkRefused(b: Board, what: string, code: string, message: RegExp) {
      const before = storage(b);
      const seen = srv.requests.length;
      const reboots = b.reboots;
      const r = await call(b, "check", { ...opts, key: KEY, reset: "hard" });
      expect(r.err?.code, `${what}: ${JSON.stringify(r)}`).to.equal(code);
      expect(r.err!.message, what).to.match(message);
      expect(srv.requests.slice(seen).map((q) => q.path), `${what}: the manifest was fetched`).to.deep.equal(["/p/version", `/p/${readFileSync(join(root, "p", "version"), "latin1").trim()}_manifest.txt`]);
      expect(await b.settle({ timeout: 1000 }), what).to.equal("idle");
      expect(b.reboots, `${what}: no reset`).to.equal(reboots);
      expect(storage(b), what).to.deep.equal(before);
    }

    it("update(): an unsigned, wrongly signed, tampered or manifest-less release leaves the trial, the copies and the boot stages byte for byte", async () => {
      const b = await pendingBoard(opts);
      const before = storage(b);
      const attacks: [string, () => Promise<void>][] = [
        ["unsigned", () => publish(root, "p", "v3", app("v3")).then(() => {})],
        ["signed with another key", () => publish(root, "p", "v4", app("v4"), "prefix", "another key").then(() => {})],
        ["tampered after signing", async () => {
          await publish(root, "p", "v5", app("v5"), "prefix", KEY);
          editManifest("v5", (m) => (m.files[1].size += 1));
        }],
        ["signed, without its manifest", async () => {
          await publish(root, "p", "v6", app("v6"), "prefix", KEY);
          rmSync(manifestPath("v6"));
        }],
        // what an attacker most wants: their own boot stages, which run before any app code
        ["unsigned, carrying new boot stages", () => publish(root, "p", "v7", { ...app("v7"), ".boot0": "print('owned')", ".bootPowerOn": "print('owned')" }).then(() => {})],
      ];
      for (const [what, attack] of attacks) {
        await attack();
        const r = await call(b, "update", { ...opts, key: KEY });
        expect(storage(b), what).to.deep.equal(before);
        expect(r.err?.code, `${what}: ${JSON.stringify(r)}`).to.equal("ESIG");
      }
      expect(status(b)).to.deep.include({ version: "v2", pending: true });
      // so the trial still works: v2 fails, and the board goes back to v1 from its copies
      b.exec(`setTimeout(function () { throw new Error("v2 fails later"); }, 10);`);
      await b.run({ timeout: 5000 });
      expect(installed(b)).to.deep.include({ version: "v1", files: app("v1"), leftovers: [] });
      expect(status(b).lastError).to.match(/rolled back v2 to v1: uncaught Error: v2 fails later/);
    });

    it("check(): fetches and verifies the manifest before it reports a release or resets (ESIG: no reset)", async () => {
      const b = await pendingBoard(opts);
      await publish(root, "p", "v8", app("v8"));
      await checkRefused(b, "unsigned", "ESIG", /unsigned: .*v8_manifest\.txt/);
      await publish(root, "p", "v9", app("v9"), "prefix", "another key");
      await checkRefused(b, "signed with another key", "ESIG", /wrong signature: .*v9_manifest\.txt/);
      // a release signed with the key: reported, and the board resets so that update() installs it
      await publish(root, "p", "v10", app("v10"), "prefix", KEY);
      const r = await call(b, "check", { ...opts, key: KEY, reset: "hard" });
      expect(r.result).to.deep.equal({ available: true, installed: "v2", latest: "v10" });
      expect(await b.settle({ timeout: 1000 })).to.equal("reboot");
    });

    it("update() and check(): an older signed release put back (a replay) changes nothing either (EREJECTED)", async () => {
      const b = await pendingBoard({ ...opts, key: KEY }); // installed with the key: v2's seq is recorded
      const before = storage(b);
      writeFileSync(join(root, "p", "version"), "v1");
      const r = await call(b, "update", { ...opts, key: KEY });
      expect(storage(b)).to.deep.equal(before);
      expect(r.err?.code, JSON.stringify(r)).to.equal("EREJECTED");
      await checkRefused(b, "replay", "EREJECTED", /seq 1 is not above 2/);
      expect(status(b)).to.deep.include({ version: "v2", pending: true });
    });
  });
}

for (const board of BOARDS) {
  describe(`issue 10.3: a Content-Length that is not a number is ESIZE, never NaN, ${board}`, function () {
    this.timeout(60000);
    let root: string, srv: OtaServer, opts: any, base: Flash, good: ReturnType<typeof installed>;
    const targets = ["/p/version", "/p/v2_manifest.txt", "/p/v2_lib.js"];
    // as the board's parser passes them on: Espruino skips the blanks before a value and drops a
    // header whose value is empty (seen on 2v29: "Content-Length:  12" arrives as "12", and
    // "Content-Length: " not at all), so " 12" is a number and "" is no Content-Length (below)
    const notNumbers = ["12abc", "-5", "12 ", "1 2", "0x10", "1e2", "+12", "NaN", "3.5"];
    before(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      opts = { host: srv.url, project: "p", files: [".bootcde", "lib.js"], reset: "none" };
      const b = await boardWithV1(board, opts, root);
      good = installed(b);
      base = b.flash.clone();
      await publish(root, "p", "v2", app("v2"));
    });
    after(() => srv.close());
    afterEach(() => {
      for (const k of Object.keys(srv.routes)) delete srv.routes[k];
    });
    const body = (path: string) => readFileSync(join(root, path));

    /** update() on a copy of the board running v1, with `target` served with this Content-Length. */
    async function updateWith(target: string, contentLength: string) {
      srv.routes[target] = { body: body(target), headers: { "Content-Length": contentLength } };
      const b = otaBoard(board, { flash: base.clone() });
      b.powerOn();
      const r = await call(b, "update", opts);
      expect(installed(b), `${target}, Content-Length "${contentLength}"`).to.deep.equal(good);
      expect(b.flash.readFile(".otam"), contentLength).to.equal(undefined);
      return r;
    }

    for (const target of targets) {
      it(`refuses every one on ${target.slice(3)}, and the board is as it was`, async () => {
        const got: Record<string, string> = {};
        for (const value of notNumbers) {
          const r = await updateWith(target, value);
          got[value] = r.err ? r.err.code : JSON.stringify(r.result);
          if (r.err) expect(r.err.message, value).to.match(/Content-Length/);
        }
        expect(got).to.deep.equal(Object.fromEntries(notNumbers.map((v) => [v, "ESIZE"])));
      });
    }

    it("reads a value after blanks as the number it is: checked against the body (ESIZE when it is not its length)", async () => {
      for (const target of targets) {
        const n = body(target).length;
        const r = await updateWith(target, `  ${n + 1}`);
        expect(r.err?.code, `${target}: ${JSON.stringify(r)}`).to.equal("ESIZE");
        // the body's count against it, or (a release file) the manifest's size against it
        expect(r.err!.message, target).to.include(`${n + 1} bytes`);
        delete srv.routes[target];
      }
      srv.routes["/p/version"] = { body: "v1", headers: { "Content-Length": "  2" } };
      const b = otaBoard(board, { flash: base.clone() });
      b.powerOn();
      expect((await call(b, "update", opts)).result).to.deep.include({ updated: false, version: "v1" });
    });

    it("refuses a manifest or a release file without a Content-Length (an empty value is none) (ESIZE)", async () => {
      for (const target of targets.slice(1)) {
        const r = await updateWith(target, "");
        expect(r.err?.code, `${target}: ${JSON.stringify(r)}`).to.equal("ESIZE");
        expect(r.err!.message).to.match(/no valid Content-Length/);
        delete srv.routes[target];
      }
    });
  });
}

for (const board of SIGNING) {
  describe(`issue 10.4: a fleet rollback re-signed with the key (rollback --key), ${board}`, function () {
    this.timeout(60000);

    it("is installed by boards with the key; the same rollback without the key, and the release it replaced put back, are refused (EREJECTED)", () =>
      withSignedV1(board, async (b, root, opts) => {
        await publish(root, "p", "v2", app("v2"), "prefix", KEY);
        expect((await call(b, "update", opts)).result).to.deep.include({ updated: true, version: "v2" });
        b.powerOn();
        b.exec(`require("ota").confirm()`);
        // A start without an install: at the start that installed v2, the boot stage read v1's
        // .bootcde, and the emulator's ESP8266 takes any string of the same bytes for a view
        // into Storage (emulator/storage-views.ts), so v1's one-chunk .bootcde downloaded again
        // in that same start would "reset" it; a real board's HTTP chunk is in RAM.
        b.powerOn();
        const good = installed(b);
        // without the key: v1 keeps its seq (1), below v2's (2): the board refuses it
        const plain = await rollback({ root, project: "p", version: "v1" });
        expect(plain.warning).to.match(/refuse/);
        const r1 = await call(b, "update", opts);
        expect(r1.err?.code, JSON.stringify(r1)).to.equal("EREJECTED");
        expect(installed(b)).to.deep.equal(good);
        // with the key: v1 re-signed with seq 3, which the board takes
        const signed = await rollback({ root, project: "p", version: "v1", key: KEY });
        expect(signed).to.deep.include({ resigned: true, seq: 3 });
        const r2 = await call(b, "update", opts);
        expect(r2.result, JSON.stringify(r2)).to.deep.include({ updated: true, version: "v1", previous: "v2" });
        b.output = "";
        b.powerOn();
        expect(b.output).to.contain("app v1");
        expect(installed(b)).to.deep.include({ version: "v1", files: app("v1") });
        // and v2 (seq 2), put back by someone without the key, is a replay now
        writeFileSync(join(root, "p", "version"), "v2");
        const r3 = await call(b, "update", opts);
        expect(r3.err?.code, JSON.stringify(r3)).to.equal("EREJECTED");
        expect(r3.err!.message).to.match(/seq 2 is not above 3/);
      }));
  });

  describe(`issue 10.5: the HMAC is compared over every character, ${board}`, function () {
    this.timeout(60000);
    // A timing cannot be measured here (the emulator runs V8, and timed tests are not the
    // project's way), so this counts what the comparison does: it reads each character of the
    // signature from the manifest, as many times whether it differs at the first character,
    // at the last, or not at all (a `!=` reads none of them and stops at the first difference).
    it("reads every character of the signature from the manifest, wherever it differs", () =>
      withSignedV1(board, async (b, root, opts) => {
        await publish(root, "p", "v2", app("v2"), "prefix", KEY);
        const path = join(root, "p", "v2_manifest.txt");
        const signed = parseManifest(readFileSync(path, "latin1")) as Manifest;
        const field = board == "ESP32" ? "sig" : "sig1"; // HMAC-SHA256 where the board has SHA-256, else HMAC-SHA1
        const sig = signed[field]!;
        const flip = (s: string, i: number) => s.slice(0, i) + (s[i] == "0" ? "1" : "0") + s.slice(i + 1);
        const proto = b.global.String.prototype;
        const charCodeAt = proto.charCodeAt as (i: number) => number;
        const runs: Record<string, { code: string; readsOfSig: number; reads: number }> = {};
        for (const [what, value] of [["differs at the first", flip(sig, 0)], ["differs at the last", flip(sig, sig.length - 1)], ["is right", sig]] as const) {
          writeFileSync(path, manifestText({ ...signed, [field]: value }), "latin1");
          const reads: string[] = [];
          proto.charCodeAt = function (this: unknown, i: number) {
            reads.push(String(this));
            return charCodeAt.call(this, i);
          };
          const r = await call(b, "update", opts);
          proto.charCodeAt = charCodeAt;
          b.flash.erase(".otaj"); // stay on v1
          runs[what] = { code: r.err ? r.err.code : "installed", readsOfSig: reads.filter((s) => s == value).length, reads: reads.length };
        }
        expect(runs["differs at the first"]).to.deep.equal({ ...runs["differs at the last"], code: "ESIG" });
        expect(runs["is right"].code).to.equal("installed");
        for (const [what, run] of Object.entries(runs)) expect(run.readsOfSig, what).to.equal(sig.length);
      }));
  });
}
