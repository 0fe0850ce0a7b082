// tools/release.ts: both layouts, manifest digests and signatures (checked against
// Node's crypto and zlib, independently of tools/lib/digest.ts), refusals, and the
// publish order as seen by a device polling the version file during a release.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { filePath, canonical, MANIFEST, E_NAME, E_VERSION, E_OPTS } from "../modules/formats.ts";
import { release, parseFileSpec } from "../tools/release.ts";
import { crc32 } from "../tools/lib/digest.ts";
import { main } from "../tools/cli.ts";

async function tmpdir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), "ota-release-"));
}

async function input(dir: string, name: string, data: Buffer | string): Promise<string> {
  const p = path.join(dir, name);
  await fsp.writeFile(p, data);
  return p;
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<Error & { code: string }> {
  try {
    await p;
  } catch (e: any) {
    expect(e.code, e.message).to.equal(code);
    if (re) expect(e.message).to.match(re);
    return e;
  }
  throw new Error(`expected a rejection with code ${code}`);
}

const zcrc = (b: Buffer): number => (zlib as any).crc32(b) >>> 0;

describe("release", () => {
  let dir: string;
  let root: string;
  let app: string;
  let bin: string;
  const appText = "var x = 1;\nconsole.log('hello');\n";
  const binData = randomBytes(5000);

  beforeEach(async () => {
    dir = await tmpdir();
    root = path.join(dir, "root");
    app = await input(dir, "app.js", appText);
    bin = await input(dir, "data.bin", binData);
  });
  afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

  it("computes zlib's CRC-32", () => {
    expect(crc32(Buffer.from("123456789"))).to.equal(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).to.equal(0);
    expect(crc32(binData)).to.equal(zcrc(binData));
    expect(crc32(binData.subarray(100), crc32(binData.subarray(0, 100)))).to.equal(zcrc(binData));
  });

  for (const layout of ["prefix", "subdir"] as const) {
    it(`publishes files, manifest and version in the ${layout} layout`, async () => {
      const key = Buffer.from("k3y-bytes\u0000\u00ff", "latin1");
      const r = await release({ root, project: "demo", version: "1.2.3", layout, key, files: [{ name: ".bootcde", path: app }, bin] });
      expect(r.layout).to.equal(layout);
      expect(await fsp.readFile(path.join(root, "demo", "version"), "utf8")).to.equal("1.2.3");
      expect(await fsp.readFile(path.join(root, filePath("demo", "1.2.3", ".bootcde", layout)), "utf8")).to.equal(appText);
      expect(await fsp.readFile(path.join(root, filePath("demo", "1.2.3", "data.bin", layout)))).to.deep.equal(binData);

      const m = JSON.parse(await fsp.readFile(path.join(root, filePath("demo", "1.2.3", MANIFEST, layout)), "utf8"));
      expect(m).to.have.all.keys("version", "files", "sig", "sig1");
      expect(m.version).to.equal("1.2.3");
      const inputs: [string, Buffer][] = [
        [".bootcde", Buffer.from(appText)],
        ["data.bin", binData],
      ];
      const expected = inputs.map(([name, b]) => {
        return {
          name, size: b.length,
          sha256: createHash("sha256").update(b).digest("hex"),
          sha1: createHash("sha1").update(b).digest("hex"),
          crc32: zcrc(b),
        };
      });
      expect(m.files).to.deep.equal(expected);
      for (const f of m.files) {
        expect(f.sha256).to.match(/^[0-9a-f]{64}$/);
        expect(f.sha1).to.match(/^[0-9a-f]{40}$/);
        expect(Object.keys(f)).to.deep.equal(["name", "size", "sha256", "sha1", "crc32"]);
      }
      const text = canonical("1.2.3", expected);
      expect(m.sig).to.equal(createHmac("sha256", key).update(text).digest("hex"));
      expect(m.sig1).to.equal(createHmac("sha1", key).update(text).digest("hex"));
      expect(r.manifest.sig).to.equal(m.sig);
      // No temporary files are left behind.
      const all = await fsp.readdir(root, { recursive: true });
      expect(all.filter((f) => String(f).includes(".ota-tmp-"))).to.deep.equal([]);
    });
  }

  it("pins the canonical text that is signed", async () => {
    const r = await release({ root, project: "p", version: "v1", key: "secret", files: [app] });
    const f = r.manifest.files[0];
    const text = `espruino-ota manifest 1\nv1\napp.js\n${f.size} ${f.sha256} ${f.sha1} ${f.crc32}\n`;
    expect(r.manifest.sig).to.equal(createHmac("sha256", "secret").update(text).digest("hex"));
  });

  it("signs the same with a string key as with its UTF-8 bytes, and leaves sig out without a key", async () => {
    const a = await release({ root, project: "a", version: "1", key: "pässword", files: [app] });
    const b = await release({ root, project: "b", version: "1", key: Buffer.from("pässword", "utf8"), files: [app] });
    expect(a.manifest.sig).to.equal(b.manifest.sig);
    const c = await release({ root, project: "c", version: "1", files: [app] });
    const m = JSON.parse(await fsp.readFile(c.manifestPath, "utf8"));
    expect(m).to.have.all.keys("version", "files");
  });

  it("names files by basename or name=path", () => {
    expect(parseFileSpec("dist/app.js")).to.deep.equal({ name: "app.js", path: "dist/app.js" });
    expect(parseFileSpec(".bootcde=dist/app.js")).to.deep.equal({ name: ".bootcde", path: "dist/app.js" });
    expect(parseFileSpec("x=y.js", () => true)).to.deep.equal({ name: "x=y.js", path: "x=y.js" });
  });

  it("reports progress", async () => {
    const seen: number[] = [];
    await release({ root, project: "p", version: "1", files: [app, bin], onProgress: (p) => seen.push(p.doneBytes) });
    expect(seen.at(-1)).to.equal(appText.length + binData.length);
  });

  describe("refuses", () => {
    it("to overwrite a published version (same or other layout)", async () => {
      await release({ root, project: "p", version: "1.0", files: [app] });
      const before = await fsp.readFile(path.join(root, "p", "1.0_app.js"), "utf8");
      await rejects(release({ root, project: "p", version: "1.0", files: [bin] }), "EEXIST", /already published/);
      await rejects(release({ root, project: "p", version: "1.0", layout: "subdir", files: [bin] }), "EEXIST", /other layout/);
      expect(await fsp.readFile(path.join(root, "p", "1.0_app.js"), "utf8")).to.equal(before);
      await fsp.access(path.join(root, "p", "1.0_data.bin")).then(() => { throw new Error("written"); }, () => {});
    });

    it("to overwrite a file of the version even without a manifest", async () => {
      await fsp.mkdir(path.join(root, "p"), { recursive: true });
      await fsp.writeFile(path.join(root, "p", "2.0_app.js"), "old");
      await rejects(release({ root, project: "p", version: "2.0", files: [app, bin] }), "EEXIST", /2\.0_app\.js/);
      expect(await fsp.readFile(path.join(root, "p", "2.0_app.js"), "utf8")).to.equal("old");
      await fsp.access(path.join(root, "p", "2.0_data.bin")).then(() => { throw new Error("written"); }, () => {});
    });

    it("names a board cannot hold", async () => {
      await rejects(release({ root, project: "p", version: "1", files: [{ name: ".otav", path: app }] }), E_NAME, /reserved/);
      await rejects(release({ root, project: "p", version: "1", files: [{ name: "x".repeat(29), path: app }] }), E_NAME, /longer/);
      await rejects(release({ root, project: "p", version: "1", files: [{ name: "a:b", path: app }] }), E_NAME);
      await rejects(release({ root, project: "p", version: "1", files: [{ name: "lib/x.js", path: app }] }), E_NAME, /slash/);
      await rejects(release({ root, project: "p", version: "1", files: [{ name: MANIFEST, path: app }] }), E_NAME, /manifest/);
      await rejects(release({ root, project: "p", version: "1", files: [{ name: "x_" + MANIFEST, path: app }] }), E_NAME, /manifest/);
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
    });

    it("versions the device would reject", async () => {
      await rejects(release({ root, project: "p", version: "", files: [app] }), E_VERSION);
      await rejects(release({ root, project: "p", version: "1 0", files: [app] }), E_VERSION);
      await rejects(release({ root, project: "p", version: "v".repeat(65), files: [app] }), E_VERSION);
      await rejects(release({ root, project: "p", version: "..", layout: "subdir", files: [app] }), E_VERSION);
      await rejects(release({ root, project: "p", version: "version", layout: "subdir", files: [app] }), E_VERSION);
    });

    it("duplicate names, missing inputs, bad options", async () => {
      await rejects(release({ root, project: "p", version: "1", files: [app, { name: "app.js", path: bin }] }), "EDUPNAME");
      await rejects(release({ root, project: "p", version: "1", files: [app, path.join(dir, "nope.js")] }), "ENOENT", /nope\.js/);
      await rejects(release({ root, project: "p", version: "1", files: [dir] }), "ENOENT", /not a regular file/);
      await rejects(release({ root, project: "p", version: "1", files: [] }), E_OPTS);
      await rejects(release({ root, project: "p", version: "1", layout: "flat", files: [app] }), E_OPTS);
      await rejects(release({ root, project: "../x", version: "1", files: [app] }), E_OPTS);
      await rejects(release({ root, project: "p", version: "1", key: "", files: [app] }), E_OPTS);
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
    });
  });

  describe("publish order under a concurrent poller", function () {
    this.timeout(60000);
    const SIZE = 3 * 1024 * 1024;
    let inputs: string[];

    beforeEach(async () => {
      inputs = [];
      for (let i = 0; i < 4; i++) inputs.push(await input(dir, `big${i}.bin`, randomBytes(SIZE)));
    });

    // Polls <project>/version as a device would. Every version it sees for the first
    // time must already have its manifest and every file of it, complete.
    function poller(project: string, layoutOf: (v: string) => "prefix" | "subdir") {
      const problems: string[] = [];
      const seen = new Set<string>();
      let polls = 0;
      let stop = false;
      const checkRelease = async (v: string) => {
        const layout = layoutOf(v);
        let m: any;
        try {
          m = JSON.parse(await fsp.readFile(path.join(root, filePath(project, v, MANIFEST, layout)), "utf8"));
        } catch (e: any) {
          problems.push(`${v}: manifest unreadable (${e.code ?? e.message})`);
          return;
        }
        if (m.files.length != inputs.length) problems.push(`${v}: manifest lists ${m.files.length} files`);
        for (const f of m.files) {
          try {
            const data = await fsp.readFile(path.join(root, filePath(project, v, f.name, layout)));
            if (data.length != f.size || createHash("sha256").update(data).digest("hex") != f.sha256) problems.push(`${v}: ${f.name} incomplete (${data.length}/${f.size})`);
          } catch (e: any) {
            problems.push(`${v}: ${f.name} missing (${e.code})`);
          }
        }
      };
      const done = (async () => {
        while (!stop) {
          polls++;
          let v: string | undefined;
          try {
            v = await fsp.readFile(path.join(root, project, "version"), "utf8");
          } catch { /* not published yet */ }
          if (v !== undefined && !seen.has(v)) {
            seen.add(v);
            await checkRelease(v);
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      return { problems, seen, get polls() { return polls; }, stop: async () => { stop = true; await done; } };
    }

    it("never shows a version whose files are not all there", async () => {
      const layouts: Record<string, "prefix" | "subdir"> = { "1.0": "prefix", "1.1": "prefix", "2.0": "subdir" };
      const p = poller("big", (v) => layouts[v]);
      for (const [version, layout] of Object.entries(layouts)) {
        const before = p.polls;
        await release({ root, project: "big", version, layout, files: inputs });
        expect(p.polls - before, "the poller ran during the release").to.be.greaterThan(5);
      }
      await new Promise((r) => setTimeout(r, 20));
      await p.stop();
      expect(p.problems).to.deep.equal([]);
      expect([...p.seen]).to.deep.equal(["1.0", "1.1", "2.0"]);
    });

    // The same poller must catch micropython_ota's usual manual publish: version file
    // first (or at any time before the files), files written in place.
    it("would catch a non-atomic publish that writes the version file first", async () => {
      const p = poller("naive", () => "prefix");
      const project = path.join(root, "naive");
      await fsp.mkdir(project, { recursive: true });
      await fsp.writeFile(path.join(project, "version"), "1.0");
      const files = [];
      for (const f of inputs) {
        const data = await fsp.readFile(f);
        const fh = await fsp.open(path.join(root, filePath("naive", "1.0", path.basename(f))), "w");
        for (let o = 0; o < data.length; o += 65536) await fh.write(data, o, Math.min(65536, data.length - o));
        await fh.close();
        files.push({ name: path.basename(f), size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
      }
      await fsp.writeFile(path.join(root, filePath("naive", "1.0", MANIFEST)), JSON.stringify({ version: "1.0", files }));
      await p.stop();
      expect(p.problems.length).to.be.greaterThan(0);
    });
  });
});

describe("CLI", () => {
  let dir: string;
  const run = async (...argv: string[]) => {
    let out = "";
    let err = "";
    const sink = (f: (s: string) => void) => new Writable({ write(c, _e, cb) { f(String(c)); cb(); } });
    const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
    return { code, out, err };
  };
  beforeEach(async () => (dir = await tmpdir()));
  afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

  it("prints usage and exits 2 for no, unknown or incomplete commands", async () => {
    for (const argv of [[], ["bogus"], ["release", "--root", dir], ["list", "--root", dir, "--bogus"]]) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).to.equal(2);
      expect(r.err).to.match(/usage: espruino-ota/);
    }
  });

  it("releases with name=path and a key file, then lists, rolls back and prunes", async () => {
    const app = await input(dir, "app.js", "1");
    const key = await input(dir, "key", "secret");
    const root = path.join(dir, "root");
    let r = await run("release", "--root", root, "--project", "p", "--version", "1", "--key", key, `.bootcde=${app}`);
    expect(r.code, r.err).to.equal(0);
    const m = JSON.parse(await fsp.readFile(path.join(root, "p", "1_manifest.json"), "utf8"));
    expect(m.files[0].name).to.equal(".bootcde");
    expect(m.sig).to.equal(createHmac("sha256", "secret").update(canonical("1", m.files)).digest("hex"));
    r = await run("release", "--root", root, "--project", "p", "--version", "2", "--layout", "subdir", app);
    expect(r.code, r.err).to.equal(0);
    r = await run("release", "--root", root, "--project", "p", "--version", "2", app);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/already published.*EEXIST/);
    r = await run("list", "--root", root, "--project", "p");
    expect(r.out).to.match(/live: 2/).and.match(/\* 2 +subdir/);
    r = await run("rollback", "--root", root, "--project", "p", "--version", "1");
    expect(r.code, r.err).to.equal(0);
    r = await run("prune", "--root", root, "--project", "p", "--keep", "0");
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/removed: 2/);
  });
});
