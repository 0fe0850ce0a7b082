// tools/serve.ts: static files with Content-Length, Range, ETag, Basic auth, no
// traversal, TLS with a self-signed certificate kept in a private folder, and one log line
// per request with the device's identity headers. All traffic stays on 127.0.0.1.
// (What it refuses, side by side with nginx: test/nginx-policy.test.ts.)
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { filePath, H_VERSION, H_BOARD, H_FIRMWARE, H_ID } from "../modules/formats.ts";
import { release } from "../tools/release.ts";
import { rollback } from "../tools/rollback.ts";
import { serve, type ServeHandle, type ServeLogEntry } from "../tools/serve.ts";
import { selfSignedCert, defaultTlsDir } from "../tools/lib/tls.ts";

const IS_ROOT = process.getuid?.() === 0;

async function rejects(p: Promise<unknown>): Promise<any> {
  return p.then(
    () => { throw new Error("accepted"); },
    (e) => e,
  );
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, opts: { path?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  const mod = u.protocol == "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: "127.0.0.1", port: u.port, path: opts.path ?? u.pathname, method: opts.method ?? "GET", headers: opts.headers, rejectUnauthorized: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("serve", () => {
  let dir: string;
  let root: string;
  let srv: ServeHandle;
  let logs: ServeLogEntry[];
  const data = randomBytes(10000);
  const file = "/" + filePath("p", "1.0", "data.bin");

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-serve-"));
    root = path.join(dir, "root");
    await fsp.writeFile(path.join(dir, "data.bin"), data);
    await fsp.writeFile(path.join(dir, "app.js"), "print(1)");
    await fsp.writeFile(path.join(dir, "secret.txt"), "TOP-SECRET");
    await release({ root, project: "p", version: "1.0", files: [path.join(dir, "data.bin"), { name: ".bootcde", path: path.join(dir, "app.js") }] });
    await release({ root, project: "p", version: "1.1", layout: "subdir", files: [path.join(dir, "data.bin")] });
    await fsp.symlink(path.join(dir, "secret.txt"), path.join(root, "p", "link.txt"));
    await fsp.writeFile(path.join(root, "p", ".ota-tmp-1-abc-2.0_x.js"), "half");
  });
  after(() => fsp.rm(dir, { recursive: true, force: true }));

  describe("over HTTP", () => {
    beforeEach(async () => {
      logs = [];
      srv = await serve({ root, log: (e) => logs.push(e) });
    });
    afterEach(() => srv.close());

    it("listens on 127.0.0.1 and serves files with Content-Length, never chunked", async () => {
      expect(srv.url).to.equal(`http://127.0.0.1:${srv.port}`);
      const r = await request(srv.url + file);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal(data);
      expect(r.headers["content-length"]).to.equal(String(data.length));
      expect(r.headers["transfer-encoding"]).to.equal(undefined);
      expect(r.headers["accept-ranges"]).to.equal("bytes");
      const v = await request(srv.url + "/p/version");
      expect(v.body.toString()).to.equal("1.1");
      expect(v.headers["content-length"]).to.equal("3");
      // the version answer is lean, as nginx's: no validators, ranges or type
      expect(v.headers["cache-control"]).to.equal("no-cache");
      for (const h of ["etag", "last-modified", "accept-ranges", "content-type"]) expect(v.headers[h], h).to.equal(undefined);
      const dot = await request(srv.url + "/p/1.0_.bootcde");
      expect(dot.body.toString()).to.equal("print(1)");
      const sub = await request(srv.url + "/p/1.1/data.bin");
      expect(sub.body).to.deep.equal(data);
      const head = await request(srv.url + file, { method: "HEAD" });
      expect(head.headers["content-length"]).to.equal(String(data.length));
      expect(head.body.length).to.equal(0);
    });

    it("lists no directories and serves no half-written files", async () => {
      for (const p of ["/", "/p", "/p/", "/p/1.1", "/p/1.1/", "/missing", "/p/.ota-tmp-1-abc-2.0_x.js"]) {
        const r = await request(srv.url, { path: p });
        expect(r.status, p).to.equal(404);
        expect(r.headers["content-length"], p).to.equal(String(r.body.length));
      }
      expect((await request(srv.url, { path: "/p", method: "POST" })).status).to.equal(405);
    });

    it("refuses path traversal and symlinks out of the root", async () => {
      for (const p of ["/../secret.txt", "/p/../../secret.txt", "/%2e%2e/secret.txt", "/p/..%2f..%2fsecret.txt", "/p/%2E%2E/%2E%2E/secret.txt", "/p/..\\..\\secret.txt", "/p/link.txt", "/p/version%00", "/%E0%A4%A"]) {
        const r = await request(srv.url, { path: p });
        expect(r.status, p).to.be.oneOf([400, 404]);
        expect(r.body.toString(), p).not.to.include("TOP-SECRET");
      }
    });

    it("answers Range requests with 206 and 416", async () => {
      let r = await request(srv.url + file, { headers: { Range: "bytes=0-9" } });
      expect(r.status).to.equal(206);
      expect(r.headers["content-range"]).to.equal(`bytes 0-9/${data.length}`);
      expect(r.headers["content-length"]).to.equal("10");
      expect(r.body).to.deep.equal(data.subarray(0, 10));
      r = await request(srv.url + file, { headers: { Range: "bytes=9990-" } });
      expect(r.status).to.equal(206);
      expect(r.body).to.deep.equal(data.subarray(9990));
      r = await request(srv.url + file, { headers: { Range: "bytes=-5" } });
      expect(r.body).to.deep.equal(data.subarray(data.length - 5));
      r = await request(srv.url + file, { headers: { Range: "bytes=9000-99999" } });
      expect(r.headers["content-range"]).to.equal(`bytes 9000-9999/${data.length}`);
      expect(r.body).to.deep.equal(data.subarray(9000));
      r = await request(srv.url + file, { headers: { Range: "bytes=10000-" } });
      expect(r.status).to.equal(416);
      expect(r.headers["content-range"]).to.equal(`bytes */${data.length}`);
      r = await request(srv.url + file, { headers: { Range: "bytes=0-1,5-6" } });
      expect(r.status).to.equal(200);
      expect(r.body.length).to.equal(data.length);
      const etag = r.headers.etag!;
      r = await request(srv.url + file, { headers: { Range: "bytes=0-1", "If-Range": '"stale"' } });
      expect(r.status).to.equal(200);
      r = await request(srv.url + file, { headers: { Range: "bytes=0-1", "If-Range": etag } });
      expect(r.status).to.equal(206);
    });

    it("answers If-None-Match with 304 for release files; the version file always with a full 200", async () => {
      const first = await request(srv.url + file);
      const etag = first.headers.etag!;
      expect(etag).to.match(/^"[^"]+"$/);
      expect(first.headers["last-modified"]).to.be.a("string");
      const again = await request(srv.url + file, { headers: { "If-None-Match": etag } });
      expect(again.status).to.equal(304);
      expect(again.body.length).to.equal(0);
      expect((await request(srv.url + file, { headers: { "If-None-Match": `"x", W/${etag}` } })).status).to.equal(304);
      // version: no validators, so never a 304 (a new version within the same second
      // would otherwise look unchanged), and no ranges
      const cases: Record<string, string>[] = [{ "If-None-Match": "*" }, { "If-Modified-Since": new Date(Date.now() + 86_400_000).toUTCString() }, { Range: "bytes=0-0" }];
      for (const headers of cases) {
        const v = await request(srv.url + "/p/version", { headers });
        expect(v.status, JSON.stringify(headers)).to.equal(200);
        expect(v.body.toString()).to.equal("1.1");
      }
      const head = await request(srv.url + "/p/version", { method: "HEAD" });
      expect(head.headers["content-length"]).to.equal("3");
      expect(head.body.length).to.equal(0);
      await rollback({ root, project: "p", version: "1.0" });
      try {
        const changed = await request(srv.url + "/p/version");
        expect(changed.status).to.equal(200);
        expect(changed.body.toString()).to.equal("1.0");
        expect(changed.headers.etag).to.equal(undefined);
      } finally {
        await rollback({ root, project: "p", version: "1.1" });
      }
    });

    it("logs one line per request with the device's identity headers", async () => {
      await request(srv.url + "/p/version", { headers: { [H_VERSION]: "1.0", [H_BOARD]: "ESP32", [H_FIRMWARE]: "2v25", [H_ID]: "240ac4 0fe2" } });
      await request(srv.url + file, { headers: { [H_ID]: "dev1", Range: "bytes=0-1" } });
      await new Promise((r) => setTimeout(r, 20));
      expect(logs).to.have.length(2);
      const [check, get] = logs;
      expect(check).to.include({ remote: "127.0.0.1", method: "GET", path: "/p/version", status: 200, check: true, project: "p", version: "1.0", board: "ESP32", firmware: "2v25", id: "240ac4 0fe2" });
      expect(new Date(check.time).toISOString()).to.equal(check.time);
      expect(check.line).to.equal(`${check.time} 127.0.0.1 GET /p/version 200 check v=1.0 board=ESP32 fw=2v25 id="240ac4 0fe2"`);
      expect(check.line).not.to.include("\n");
      expect(get).to.include({ check: false, status: 206, id: "dev1" });
      expect(get.line).to.match(/ 206 file v=- board=- fw=- id=dev1 range=bytes=0-1$/);
    });
  });

  describe("with Basic auth", () => {
    beforeEach(async () => {
      logs = [];
      srv = await serve({ root, user: "dev", password: "pa:ss wörd", log: (e) => logs.push(e) });
    });
    afterEach(() => srv.close());
    const basic = (u: string, p: string) => ({ Authorization: "Basic " + Buffer.from(`${u}:${p}`).toString("base64") });

    it("answers 401 with WWW-Authenticate without the right credentials, 200 with them", async () => {
      for (const headers of [{}, basic("dev", "wrong"), basic("other", "pa:ss wörd"), { Authorization: "Bearer x" }]) {
        const r = await request(srv.url + "/p/version", { headers });
        expect(r.status).to.equal(401);
        expect(r.headers["www-authenticate"]).to.match(/^Basic realm="[^"]+"/);
        expect(r.body.toString()).not.to.include("1.1");
      }
      const ok = await request(srv.url + "/p/version", { headers: basic("dev", "pa:ss wörd") });
      expect(ok.status).to.equal(200);
      expect(ok.body.toString()).to.equal("1.1");
      await new Promise((r) => setTimeout(r, 20));
      expect(logs.map((l) => l.status)).to.deep.equal([401, 401, 401, 401, 200]);
    });

    it("refuses a root that is not a folder", async () => {
      for (const r of [path.join(dir, "nope"), path.join(dir, "app.js")]) {
        const e = await rejects(serve({ root: r }));
        expect(e.code, r).to.equal("ENOENT");
        expect(e.message).to.include("is not a directory");
      }
    });

    it("refuses a user without a password", async () => {
      expect((await rejects(serve({ root, user: "dev" }))).code).to.equal("EOPTS");
    });

    it("refuses an empty password, which anyone could give, and an empty user", async () => {
      const e = await rejects(serve({ root, user: "dev", password: "" }));
      expect(e.code).to.equal("EOPTS");
      expect(e.message).to.match(/password is empty/);
      expect((await rejects(serve({ root, user: "", password: "x" }))).message).to.match(/user name is empty/);
    });
  });

  describe("over TLS", function () {
    this.timeout(60000);
    let tlsDir: string;
    before(() => (tlsDir = path.join(dir, "cache", "tls")));

    it("serves with a generated self-signed certificate, cached across restarts in a private folder", async () => {
      srv = await serve({ root, tls: true, tlsDir, log: () => {} });
      try {
        expect(srv.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
        const r = await request(srv.url + "/p/version");
        expect(r.status).to.equal(200);
        expect(r.body.toString()).to.equal("1.1");
        expect(srv.cert).to.match(/BEGIN CERTIFICATE/);
      } finally {
        await srv.close();
      }
      // the folder is the user's alone; the key is theirs to read
      const st = await fsp.stat(tlsDir);
      expect(st.mode & 0o777).to.equal(0o700);
      expect(st.uid).to.equal(process.getuid!());
      const files = await fsp.readdir(tlsDir);
      expect(files.filter((f) => f.startsWith("key-"))).to.have.length(1);
      for (const f of files) expect((await fsp.stat(path.join(tlsDir, f))).mode & 0o777, f).to.equal(f.startsWith("key-") ? 0o600 : 0o644);
      const again = await serve({ root, tls: true, tlsDir, log: () => {} });
      try {
        expect(again.cert).to.equal(srv.cert);
        const r = await new Promise<number>((resolve, reject) =>
          https.get(again.url + "/" + filePath("p", "1.1", "data.bin", "subdir"), { rejectUnauthorized: false }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          }).on("error", reject),
        );
        expect(r).to.equal(200);
      } finally {
        await again.close();
      }
    });

    it("keeps it in the user's cache folder by default, never in the shared temp folder", () => {
      expect(defaultTlsDir({ XDG_CACHE_HOME: "/home/u/.cache-x" })).to.equal("/home/u/.cache-x/espruino-ota/tls");
      expect(defaultTlsDir({})).to.equal(path.join(os.homedir(), ".cache", "espruino-ota", "tls"));
      expect(defaultTlsDir({ XDG_CACHE_HOME: "relative" })).to.equal(path.join(os.homedir(), ".cache", "espruino-ota", "tls"));
      expect(defaultTlsDir().startsWith(os.tmpdir() + path.sep)).to.equal(false);
    });

    describe("refuses a certificate or key that anyone else could have written", () => {
      let planted: string;
      let good: Awaited<ReturnType<typeof selfSignedCert>>;
      beforeEach(async () => {
        planted = await fsp.mkdtemp(path.join(dir, "planted-"));
        good = await selfSignedCert(["localhost", "127.0.0.1"], planted);
      });
      afterEach(() => fsp.rm(planted, { recursive: true, force: true }));
      const refused = async (what: RegExp) => {
        const e = await rejects(selfSignedCert(["localhost", "127.0.0.1"], planted));
        expect(e.code, e.message).to.equal("EINSECURE");
        expect(e.message).to.match(what).and.match(/delete it/);
      };

      it("a folder others can write or read (a shared temp folder)", async () => {
        await fsp.chmod(planted, 0o777);
        await refused(/folder .* has mode 777/);
        await fsp.chmod(planted, 0o755);
        await refused(/has mode 755/);
        await fsp.chmod(planted, 0o700);
        expect((await selfSignedCert(["localhost", "127.0.0.1"], planted)).cert).to.equal(good.cert);
        // and serve does not start with it
        await fsp.chmod(planted, 0o777);
        expect((await rejects(serve({ root, tls: true, tlsDir: planted, log: () => {} }))).code).to.equal("EINSECURE");
      });

      it("a certificate or key others can write", async () => {
        await fsp.chmod(good.certPath, 0o666);
        await refused(/file .*cert-.* has mode 666/);
        await fsp.chmod(good.certPath, 0o644);
        await fsp.chmod(good.keyPath, 0o620);
        await refused(/file .*key-.* has mode 620/);
      });

      it("a key that is a symlink", async () => {
        const elsewhere = path.join(dir, `key-${process.pid}.pem`);
        await fsp.rename(good.keyPath, elsewhere);
        await fsp.symlink(elsewhere, good.keyPath);
        await refused(/key-.* is a symlink/); // opened without following it
        await fsp.rm(elsewhere);
      });

      it("a folder or certificate owned by another user", async function () {
        if (!IS_ROOT) {
          // as anyone but root, "/" is someone else's folder
          expect(process.env.CI, "CI runs as root: this test must chown").to.equal(undefined);
          const e = await rejects(selfSignedCert(["localhost"], "/"));
          expect(e.code).to.equal("EINSECURE");
          expect(e.message).to.match(/belongs to uid 0/);
          return;
        }
        await fsp.chown(good.certPath, 65534, 65534);
        await refused(/cert-.* belongs to uid 65534/);
        await fsp.chown(good.certPath, 0, 0);
        await fsp.chown(planted, 65534, 65534);
        await refused(/folder .* belongs to uid 65534/);
      });
    });
  });
});
