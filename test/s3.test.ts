// Publishing to S3-compatible object storage (issue 13): release, list, rollback and prune
// with --root s3://bucket/prefix against a real S3-protocol server (s3rver, the npm package)
// that this file starts on 127.0.0.1, through the official AWS SDK v3 with credentials from
// the standard chain (environment, then a profile). Then emulated boards of every profile
// update from the bucket's own HTTP endpoint, with and without signing.
// s3rver ignores If-None-Match on PUT; the tests that need a store with conditional writes
// (AWS S3, MinIO, R2) add AWS's documented answer (412 PreconditionFailed) in front of it.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { S3Client, HeadObjectCommand, GetObjectCommand, DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { E_EXISTS, E_MISSING, E_STORE, E_BUSY } from "../modules/formats.ts";
import { main } from "../tools/cli.ts";
import { release } from "../tools/release.ts";
import { rollback } from "../tools/rollback.ts";
import { list } from "../tools/list.ts";
import { prune } from "../tools/prune.ts";
import { openStore } from "../tools/lib/store.ts";
import { otaBoard, call, sampleApp, installed, BOARDS } from "../harness/device.ts";
import { startS3Server, S3RVER_ACCOUNT, type S3Middleware } from "../bench/fleet-s3.ts";
import type { Board, BoardName } from "../emulator/board.ts";
import { rejects } from "./lib/rejects.ts";

const BUCKET = "fleet";
const PREFIX = "ota";
const ROOT = `s3://${BUCKET}/${PREFIX}`;
const ACCOUNT = S3RVER_ACCOUNT;

interface TestS3 {
  endpoint: string; // http://127.0.0.1:<port>
  host: string; // what a board gets as opts.host: the prefix's public URL
  log: string[]; // s3rver's own log lines, in order
  mode: { conditional: "ignore" | "enforce" | "reject"; hideFromHead: Set<string> };
  client: S3Client;
  stop(): Promise<void>;
}

async function startS3(): Promise<TestS3> {
  const mode: TestS3["mode"] = { conditional: "ignore", hideFromHead: new Set() };
  const keyOf = (ctx: any) => decodeURIComponent(ctx.path.split("/").slice(2).join("/"));
  const s3Error = (ctx: any, status: number, code: string) => {
    ctx.status = status;
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  };
  // What a store with conditional writes answers (AWS S3: 412 PreconditionFailed), or one
  // that does not implement them (501).
  const conditionalWrites: S3Middleware = async (ctx, next) => {
    if (ctx.method == "PUT" && ctx.get("if-none-match") == "*") {
      if (mode.conditional == "reject") return s3Error(ctx, 501, "NotImplemented");
      if (mode.conditional == "enforce" && (await ctx.store.existsObject(BUCKET, keyOf(ctx)))) return s3Error(ctx, 412, "PreconditionFailed");
    }
    return next();
  };
  // A HEAD that answers 404 for an object that exists: what a racing publisher sees when
  // the other one writes right after its check.
  const raceHead: S3Middleware = async (ctx, next) => {
    if (ctx.method == "HEAD" && mode.hideFromHead.has(keyOf(ctx))) {
      ctx.status = 404;
      return;
    }
    return next();
  };
  const srv = await startS3Server({ bucket: BUCKET, first: [conditionalWrites, raceHead] });
  const client = new S3Client({ endpoint: srv.endpoint, forcePathStyle: true, region: "us-east-1", credentials: { accessKeyId: ACCOUNT, secretAccessKey: ACCOUNT } });
  return {
    endpoint: srv.endpoint, host: `${srv.endpoint}/${BUCKET}/${PREFIX}`, log: srv.log, mode, client,
    async stop() {
      client.destroy();
      await srv.stop();
    },
  };
}

// The SDK's standard chain, pointed at this server's account through the environment only:
// no profile files of the machine, and never the EC2 metadata address.
const ENV = {
  AWS_ACCESS_KEY_ID: ACCOUNT, AWS_SECRET_ACCESS_KEY: ACCOUNT, AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/nonexistent/aws-config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined, AWS_DEFAULT_REGION: undefined,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", // as the store sets it (store-s3.ts)
};
function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  apply(vars);
  return () => apply(saved);
}

async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const sink = (f: (s: string) => void) => new Writable({ write(c, _e, cb) { f(String(c)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
  return { code, out, err };
}

describe("S3-compatible object storage (s3rver on 127.0.0.1)", function () {
  this.timeout(60000);
  let s3: TestS3;
  let dir: string;
  let restoreEnv: () => void;
  let s3opts: { endpoint: string; pathStyle: boolean };
  const inputs: Record<string, string> = {};

  before(async () => {
    restoreEnv = setEnv(ENV);
    s3 = await startS3();
    s3opts = { endpoint: s3.endpoint, pathStyle: true };
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-s3-"));
    for (const [name, data] of Object.entries({ "app.js": "print('app');\n", "lib.js": "exports.x = 1;\n", "data.bin": "\u0001".repeat(3000) })) {
      inputs[name] = path.join(dir, name);
      await fsp.writeFile(inputs[name], data);
    }
  });
  after(async () => {
    await s3?.stop();
    await fsp.rm(dir, { recursive: true, force: true });
    restoreEnv?.();
  });
  beforeEach(() => {
    s3.mode.conditional = "ignore";
    s3.mode.hideFromHead.clear();
  });

  const head = (key: string) => s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }));
  const gone = (key: string) => head(key).then(() => expect.fail(`${key} is still there`), (e) => expect(e.$metadata?.httpStatusCode).to.equal(404));
  // By GET, which the race emulation leaves alone.
  const etag = async (key: string) => (await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }))).ETag;
  const body = async (key: string) => Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }))).Body!.transformToByteArray()).toString("latin1");
  const cli = (cmd: string, ...rest: string[]) => run(cmd, "--root", ROOT, "--endpoint", s3.endpoint, "--path-style", ...rest);

  describe("release, list, rollback, prune through the CLI", () => {
    it("publishes the files, then the manifest, then version, as the server's log shows", async () => {
      const before = s3.log.length;
      const r = await cli("release", "--project", "p", "--version", "1.0", "--json", `.bootcde=${inputs["app.js"]}`, inputs["lib.js"], inputs["data.bin"]);
      expect(r.code, r.err).to.equal(0);
      const out = JSON.parse(r.out);
      expect(out).to.deep.include({ project: "p", version: "1.0", seq: 1, manifestPath: `${ROOT}/p/1.0_manifest.txt`, versionPath: `${ROOT}/p/version` });
      const stored = s3.log.slice(before).map((l) => /^Stored object "(.*)" in bucket/.exec(l)?.[1]).filter(Boolean);
      console.log("      PUTs of one release, from s3rver's log:\n" + stored.map((k, i) => `        ${i + 1}. ${k}`).join("\n"));
      expect(stored).to.deep.equal([
        "ota/p/.ota-tmp-lock", // the project's lock, put-if-absent
        "ota/p/.ota-tmp-lock", // the lock again, now naming the keys this release places
        "ota/p/1.0_.bootcde", "ota/p/1.0_lib.js", "ota/p/1.0_data.bin",
        "ota/p/1.0_manifest.txt",
        "ota/p/version", // last: from here on boards install 1.0
      ]);
      await gone("p/.ota-tmp-lock"); // released
    });

    it("gives each object its Cache-Control, Content-Type and Content-Length", async () => {
      const file = await head("p/1.0_data.bin");
      expect(file).to.deep.include({ CacheControl: "public, max-age=31536000, immutable", ContentType: "application/octet-stream", ContentLength: 3000 });
      const manifest = await head("p/1.0_manifest.txt");
      expect(manifest).to.deep.include({ CacheControl: "no-cache", ContentType: "application/octet-stream" });
      const version = await head("p/version");
      expect(version).to.deep.include({ CacheControl: "public, max-age=60", ContentType: "text/plain; charset=utf-8", ContentLength: 3 });
      // What a board gets: a plain body with a length, straight from the bucket's HTTP endpoint.
      const res = await fetch(`${s3.host}/p/version`);
      expect([res.status, res.headers.get("content-length"), res.headers.get("content-encoding"), await res.text()]).to.deep.equal([200, "3", null, "1.0"]);
    });

    it("sets the version object's max-age from --version-max-age", async () => {
      const r = await cli("release", "--project", "p", "--version", "1.1", "--layout", "subdir", "--version-max-age", "15", inputs["app.js"]);
      expect(r.code, r.err).to.equal(0);
      expect((await head("p/version")).CacheControl).to.equal("public, max-age=15");
      expect((await head("p/1.1/app.js")).CacheControl).to.equal("public, max-age=31536000, immutable");
    });

    it("refuses to overwrite a published version, and changes nothing", async () => {
      const etag = (await head("p/1.0_lib.js")).ETag;
      const r = await cli("release", "--project", "p", "--version", "1.0", inputs["data.bin"], `lib.js=${inputs["data.bin"]}`);
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/already published.*EEXIST/);
      expect((await head("p/1.0_lib.js")).ETag).to.equal(etag);
      expect(await body("p/version")).to.equal("1.1");
    });

    it("lists both layouts, live one marked, as text and as JSON", async () => {
      let r = await cli("list", "--project", "p");
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.match(/live: 1\.1/).and.match(/  1\.0  seq 1  prefix/).and.match(/\* 1\.1  seq 2  subdir/);
      r = await cli("list", "--project", "p", "--json");
      const l = JSON.parse(r.out);
      expect(l.versions.map((v: any) => [v.version, v.seq, v.files.length])).to.deep.equal([["1.0", 1, 3], ["1.1", 2, 1]]);
    });

    it("rolls back only when every file of the older release is there", async () => {
      const saved = await body("p/1.0_lib.js");
      await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/p/1.0_lib.js` }));
      let r = await cli("rollback", "--project", "p", "--version", "1.0");
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/1\.0_lib\.js is missing.*ENOENT/);
      expect(await body("p/version")).to.equal("1.1");
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/p/1.0_lib.js`, Body: saved }));
      r = await cli("rollback", "--project", "p", "--version", "1.0", "--version-max-age", "5");
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.match(/p is now at 1\.0 \(was 1\.1\); 3 file\(s\) checked/);
      expect(await head("p/version")).to.deep.include({ CacheControl: "public, max-age=5", ContentLength: 3 });
    });

    it("prunes old releases' objects, never the live or the newest one", async () => {
      let r = await cli("release", "--project", "p", "--version", "1.2", inputs["app.js"]);
      r = await cli("rollback", "--project", "p", "--version", "1.0");
      r = await cli("prune", "--project", "p", "--keep", "0", "--json");
      expect(r.code, r.err).to.equal(0);
      expect(JSON.parse(r.out)).to.deep.include({ removed: ["1.1"], kept: ["1.2", "1.0"] });
      await gone("p/1.1/app.js");
      await gone("p/1.1/manifest.txt");
      expect((await head("p/1.0_manifest.txt")).ContentLength).to.be.greaterThan(0);
    });

    it("prune and list of a project are read from the bucket only below its prefix", async () => {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "elsewhere/p/9.9_manifest.txt", Body: "{}" }));
      const l = await list({ root: ROOT, ...s3opts, project: "p" });
      expect(l.versions.map((v) => v.version)).to.not.include("9.9");
      await prune({ root: ROOT, ...s3opts, project: "p", keep: 0 });
      expect((await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "elsewhere/p/9.9_manifest.txt" }))).ContentLength).to.equal(2);
    });
  });

  describe("never overwriting, on stores with and without conditional writes", () => {
    it("a store with conditional writes refuses the put of a publisher that lost the race (412)", async () => {
      s3.mode.conditional = "enforce";
      await release({ root: ROOT, ...s3opts, project: "race", version: "1", files: [inputs["app.js"]] });
      const before = await etag("race/1_app.js");
      // The other publisher's check sees no object; its write is refused by the store itself.
      s3.mode.hideFromHead.add(`${PREFIX}/race/1_app.js`);
      s3.mode.hideFromHead.add(`${PREFIX}/race/1_manifest.txt`);
      await rejects(release({ root: ROOT, ...s3opts, project: "race", version: "1", files: [{ name: "app.js", path: inputs["data.bin"] }] }), E_EXISTS, /written by someone else meanwhile/);
      expect(await etag("race/1_app.js")).to.equal(before);
    });

    it("a store that ignores If-None-Match is protected by the check alone (the race it cannot close is shown here)", async () => {
      await release({ root: ROOT, ...s3opts, project: "race2", version: "1", files: [inputs["app.js"]] });
      await rejects(release({ root: ROOT, ...s3opts, project: "race2", version: "1", files: [inputs["data.bin"]] }), E_EXISTS);
      s3.mode.hideFromHead.add(`${PREFIX}/race2/1_manifest.txt`);
      s3.mode.hideFromHead.add(`${PREFIX}/race2/1_app.js`);
      const before = await etag("race2/1_app.js");
      await release({ root: ROOT, ...s3opts, project: "race2", version: "1", files: [{ name: "app.js", path: inputs["data.bin"] }] });
      expect(await etag("race2/1_app.js"), "without conditional writes a lost race overwrites").to.not.equal(before);
    });

    it("a store that rejects If-None-Match (501) is written with the check alone", async () => {
      s3.mode.conditional = "reject";
      const r = await release({ root: ROOT, ...s3opts, project: "plain", version: "1", files: [inputs["app.js"]] });
      expect(r.seq).to.equal(1);
      expect(await body("plain/version")).to.equal("1");
      await rejects(release({ root: ROOT, ...s3opts, project: "plain", version: "1", files: [inputs["app.js"]] }), E_EXISTS);
    });
  });

  describe("the store's own failures", () => {
    it("a missing bucket is an error that says so (exit 1)", async () => {
      const r = await run("list", "--root", "s3://no-such-bucket/x", "--project", "p", "--endpoint", s3.endpoint, "--path-style");
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/bucket does not exist.*ENOENT/);
    });

    it("takes credentials from a profile (AWS_PROFILE), and names bad ones", async () => {
      const creds = path.join(dir, "credentials");
      await fsp.writeFile(creds, `[ota]\naws_access_key_id = ${ACCOUNT}\naws_secret_access_key = ${ACCOUNT}\n[bad]\naws_access_key_id = NOBODY\naws_secret_access_key = wrong\n`);
      const restore = setEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SHARED_CREDENTIALS_FILE: creds, AWS_PROFILE: "ota" });
      try {
        const l = await list({ root: ROOT, ...s3opts, project: "p" });
        expect(l.live).to.equal("1.0");
        process.env.AWS_PROFILE = "bad";
        await rejects(list({ root: ROOT, ...s3opts, project: "p" }), E_STORE, /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|403/);
      } finally {
        restore();
      }
    });

    it("a lock left by a killed release elsewhere needs --recover, which then undoes it", async () => {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/k/2_app.js`, Body: "half" }));
      await s3.client.send(new PutObjectCommand({
        Bucket: BUCKET, Key: `${PREFIX}/k/.ota-tmp-lock`,
        Body: JSON.stringify({ op: "release", version: "2", host: "ci-runner-9", pid: 4242, started: "", undo: ["k/2_manifest.txt", "k/2_app.js"] }),
      }));
      await rejects(release({ root: ROOT, ...s3opts, project: "k", version: "2", files: [inputs["app.js"]] }), E_BUSY, /ci-runner-9.*--recover/);
      const r = await release({ root: ROOT, ...s3opts, project: "k", version: "2", files: [inputs["app.js"]], recover: true });
      expect(r.cleaned).to.deep.equal(["k/2_app.js"]);
      expect(await body("k/2_app.js")).to.equal("print('app');\n");
    });

    it("a folder root and an s3:// root share one code path (the store)", async () => {
      const store = await openStore(ROOT, s3opts);
      expect(store.url).to.equal(ROOT);
      expect((await store.list("p")).map((o) => o.key)).to.include("p/1.0_manifest.txt");
      await rejects(openStore(path.join(dir, "nope")), E_MISSING);
    });
  });

  describe("boards update from the bucket's HTTP endpoint", () => {
    const KEY = "per-product fleet key";
    const cases: { board: BoardName; signed: boolean }[] = [];
    for (const board of BOARDS) {
      cases.push({ board, signed: false });
      // ESP8266_BOARD has no crypto, so it cannot check an HMAC (a key there is EOPTS).
      if (board != "ESP8266_BOARD") cases.push({ board, signed: true });
    }
    for (const { board, signed } of cases) {
      describe(`${board}${signed ? ", signed releases" : ""}`, () => {
        const project = `fleet-${board.toLowerCase()}${signed ? "-signed" : ""}`;
        const key = signed ? Buffer.from(KEY) : undefined;
        let b: Board;
        let opts: Record<string, unknown>;
        const publish = async (version: string) => {
          const src = await fsp.mkdtemp(path.join(dir, "src-"));
          const files = Object.entries(sampleApp(version, opts)).map(([name, text]) => ({ name, path: path.join(src, name) }));
          for (const f of files) await fsp.writeFile(f.path, sampleApp(version, opts)[f.name]);
          return release({ root: ROOT, ...s3opts, project, version, key, files });
        };
        before(async () => {
          opts = { host: s3.host, project, ...(signed ? { key: KEY } : {}) };
          await publish("v1.0.0");
          b = otaBoard(board);
        });

        it("installs v1.0.0 on a blank board", async () => {
          b.powerOn();
          const r = await call(b, "update", opts);
          expect(r, JSON.stringify(r)).to.deep.equal({ result: { updated: true, version: "v1.0.0" } });
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("main v1.0.0");
          expect(installed(b).files).to.deep.equal(sampleApp("v1.0.0", opts));
        });

        it("updates to v1.0.1 at the next boot", async () => {
          await publish("v1.0.1");
          b.output = "";
          b.powerOn();
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("main v1.0.1");
          expect(installed(b)).to.deep.include({ version: "v1.0.1", previous: "v1.0.0", leftovers: [] });
        });

        it(`rolls back to v1.0.0 when rollback${signed ? " --key" : ""} points version at it`, async () => {
          const r = await rollback({ root: ROOT, ...s3opts, project, version: "v1.0.0", key });
          expect(r).to.deep.include({ previous: "v1.0.1", resigned: signed });
          b.output = "";
          b.powerOn();
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("main v1.0.0");
          expect(installed(b)).to.deep.include({ version: "v1.0.0", leftovers: [] });
          expect(installed(b).files).to.deep.equal(sampleApp("v1.0.0", opts));
        });

        if (signed) {
          it("refuses a release signed with another key, and keeps running v1.0.0", async () => {
            await release({ root: ROOT, ...s3opts, project, version: "v6.6.6", key: "someone else's key", files: [{ name: ".bootcde", path: inputs["app.js"] }] });
            const r = await call(b, "update", opts);
            expect(r.err?.code, JSON.stringify(r)).to.equal("ESIG");
            expect(installed(b).version).to.equal("v1.0.0");
          });
        }
      });
    }
  });
});
