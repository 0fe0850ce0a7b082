// tools/release.ts: both layouts, manifest digests and signatures (checked against
// Node's crypto and zlib, independently of tools/lib/digest.ts), refusals, and the
// publish order as seen by a device polling the version file during a release.
// Over 500 lines because each of those is one command's contract, tested on one shared
// server root; its store-level twin for S3 is test/s3.test.ts.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { spawn, spawnSync } from "node:child_process";
import { filePath, signedText, MANIFEST, E_NAME, E_VERSION, E_OPTS, E_SIZE } from "../modules/formats.ts";
import { release, parseFileSpec } from "../tools/release.ts";
import { crc32, digestBytes, manifestFile } from "../tools/lib/digest.ts";
import { readManifest, buildManifest, manifestText } from "../tools/lib/manifest.ts";
import { main } from "../tools/cli.ts";
import { rejects } from "./lib/rejects.ts";

async function tmpdir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), "ota-release-"));
}

async function input(dir: string, name: string, data: Buffer | string): Promise<string> {
  const p = path.join(dir, name);
  await fsp.writeFile(p, data);
  return p;
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

      const m = await readManifest(path.join(root, filePath("demo", "1.2.3", MANIFEST, layout)));
      expect(m).to.include({ version: "1.2.3", project: "demo", seq: 1 });
      expect(r.seq).to.equal(1);
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
      // The signature, checked with node:crypto over the signed text of formats.ts.
      const text = signedText(m);
      expect(m.sig).to.equal(createHmac("sha256", key).update(text).digest("hex"));
      expect(m.sig1).to.equal(createHmac("sha1", key).update(text).digest("hex"));
      expect(r.manifest.sig).to.equal(m.sig);
      // No temporary files are left behind.
      const all = await fsp.readdir(root, { recursive: true });
      expect(all.filter((f) => String(f).includes(".ota-tmp-"))).to.deep.equal([]);
    });
  }

  it("pins the text that is signed: header (project, version, seq, count), then a line per file", async () => {
    const r = await release({ root, project: "p", version: "v1", key: "secret", files: [app] });
    const f = r.manifest.files[0];
    const text = `espruino-ota/2 p v1 ${r.manifest.seq} 1\n${f.size} ${f.sha256} ${f.sha1} ${f.crc32} app.js\n`;
    expect(r.manifest.sig).to.equal(createHmac("sha256", "secret").update(text).digest("hex"));
  });

  it("signs the same with a string key as with its UTF-8 bytes, and leaves sig out without a key", async () => {
    const other = await tmpdir();
    const a = await release({ root, project: "a", version: "1", key: "pässword", files: [app] });
    const b = await release({ root: other, project: "a", version: "1", key: Buffer.from("pässword", "utf8"), files: [app] });
    expect(a.manifest.sig).to.equal(b.manifest.sig);
    const c = await release({ root, project: "c", version: "1", files: [app] });
    const m = await readManifest(c.manifestPath);
    expect(m.sig).to.equal(undefined);
    expect(m.sig1).to.equal(undefined);
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

  describe("refuses what every board refuses (issue 10 item 6)", () => {
    it("an empty file", async () => {
      const empty = await input(dir, "empty.js", "");
      await rejects(release({ root, project: "p", version: "1", files: [app, empty] }), E_SIZE, /empty\.js.*empty: a board's Storage cannot hold an empty file/);
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
    });

    it("a name of 28 characters or fewer that is longer than 28 bytes in UTF-8", async () => {
      const long = "é".repeat(15); // 15 characters, 30 bytes
      await rejects(release({ root, project: "p", version: "1", files: [{ name: long, path: app }] }), E_NAME, /longer than 28/);
      const cjk = "应用" + "x".repeat(23); // 25 characters, 29 bytes
      await rejects(release({ root, project: "p", version: "1", files: [{ name: cjk, path: app }] }), E_NAME, /longer than 28/);
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
      const fits = "é".repeat(14); // 28 bytes: a board holds it
      const r = await release({ root, project: "p", version: "1", files: [{ name: fits, path: app }] });
      expect(r.manifest.files[0].name).to.equal(fits);
    });

    it("a project name that is not URL-safe", async () => {
      for (const project of ["my project", "p?x", "p#1", "prøve", "p/../q", "/p", "p/", ".hidden", "p%20"]) {
        await rejects(release({ root, project, version: "1", files: [app] }), E_OPTS, /project/);
      }
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
      await release({ root, project: "fleet/sensor-v2_b.1", version: "1", files: [app] });
    });

    it("every version a board refuses, and versions servers hide", async () => {
      for (const version of ["", "1 0", "v".repeat(65), "1/0", "1.0é", "v1\n"]) {
        await rejects(release({ root, project: "p", version, files: [app] }), E_VERSION);
      }
      await rejects(release({ root, project: "p", version: ".1", files: [app] }), E_VERSION, /hidden/);
      expect(await fsp.readdir(root).catch(() => [])).to.deep.equal([]);
    });
  });

  describe("seq (issue 10 item 4, tools side)", () => {
    it("is one more than the highest seq among the project's releases", async () => {
      // A release published by hand, with seq 5.
      await fsp.mkdir(path.join(root, "p"), { recursive: true });
      await fsp.writeFile(path.join(root, "p", "0.9_app.js"), appText);
      const old = buildManifest({ project: "p", version: "0.9", seq: 5, files: [manifestFile("app.js", digestBytes(Buffer.from(appText)))] });
      await fsp.writeFile(path.join(root, filePath("p", "0.9", MANIFEST)), manifestText(old));
      const seqs = [];
      for (const [version, layout] of [["1.0", "prefix"], ["1.1", "subdir"], ["0.1", "prefix"]] as const) {
        const r = await release({ root, project: "p", version, layout, files: [app] });
        expect((await readManifest(r.manifestPath)).seq).to.equal(r.seq);
        seqs.push(r.seq);
      }
      expect(seqs, "by publishing order, whatever the version says").to.deep.equal([6, 7, 8]);
      expect((await release({ root, project: "other", version: "9", files: [app] })).seq, "per project").to.equal(1);
    });
  });

  describe("a killed release (issue 10 item 11)", () => {
    const lockPath = () => path.join(root, "p", ".ota-tmp-lock");
    const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!;
    const leftovers = async () => (await fsp.readdir(path.join(root, "p"), { recursive: true })).map(String).filter((f) => f.includes(".ota-tmp-")).sort();

    // What a release killed after placing one of its two files leaves: its lock, that file,
    // a temporary copy of the next, and the temporary name of the lock itself.
    async function killedRelease(pid: number, host = os.hostname()) {
      await fsp.mkdir(path.join(root, "p"), { recursive: true });
      await fsp.writeFile(path.join(root, "p", "2.0_app.js"), appText);
      await fsp.writeFile(path.join(root, "p", `.ota-tmp-${pid}-0123456789ab-2.0_data.bin`), binData.subarray(0, 100));
      await fsp.writeFile(path.join(root, "p", `.ota-tmp-${pid}-ba9876543210-.ota-tmp-lock`), "{");
      await fsp.writeFile(lockPath(), JSON.stringify({
        op: "release", version: "2.0", host, pid, started: new Date().toISOString(),
        undo: ["p/2.0_manifest.txt", "p/2.0_app.js", "p/2.0_data.bin"],
      }));
    }

    it("is undone by the next release, so its version can be published again", async () => {
      const pid = deadPid();
      await release({ root, project: "p", version: "1.0", files: [app] });
      await killedRelease(pid);
      const r = await release({ root, project: "p", version: "2.0", files: [app, bin] });
      expect(r.recovered).to.deep.include({ op: "release", version: "2.0", pid });
      expect(r.cleaned.sort()).to.deep.equal([`p/.ota-tmp-${pid}-0123456789ab-2.0_data.bin`, `p/.ota-tmp-${pid}-ba9876543210-.ota-tmp-lock`, "p/2.0_app.js"].sort());
      expect(await fsp.readFile(path.join(root, "p", "version"), "utf8")).to.equal("2.0");
      expect(await fsp.readFile(path.join(root, "p", "2.0_data.bin"))).to.deep.equal(binData);
      expect(await leftovers()).to.deep.equal([]);
    });

    it("is not undone once its version went live (only its lock and temporary files go)", async () => {
      const pid = deadPid();
      await release({ root, project: "p", version: "2.0", files: [app] });
      await fsp.writeFile(path.join(root, "p", `.ota-tmp-${pid}-0123456789ab-version`), "2.");
      await fsp.writeFile(lockPath(), JSON.stringify({ op: "release", version: "2.0", host: os.hostname(), pid, started: "", undo: ["p/2.0_manifest.txt", "p/2.0_app.js"] }));
      await rejects(release({ root, project: "p", version: "2.0", files: [app] }), "EEXIST", /already published/);
      expect(await fsp.readFile(path.join(root, "p", "2.0_app.js"), "utf8")).to.equal(appText);
      expect(await leftovers()).to.deep.equal([]);
    });

    it("by another machine, or by a process that still runs, needs --recover, which the error names", async () => {
      await killedRelease(12345, "build-server-7");
      await rejects(release({ root, project: "p", version: "2.0", files: [app] }), "EBUSY", /release 2\.0 by process 12345 on build-server-7.*run again with --recover/);
      expect(await fsp.readFile(path.join(root, "p", "2.0_app.js"), "utf8"), "nothing is undone without --recover").to.equal(appText);
      const r = await release({ root, project: "p", version: "2.0", files: [app, bin], recover: true });
      expect(r.cleaned).to.include("p/2.0_app.js");
      await fsp.writeFile(lockPath(), JSON.stringify({ op: "release", version: "3.0", host: os.hostname(), pid: process.pid, started: "" }));
      await rejects(release({ root, project: "p", version: "3.0", files: [app] }), "EBUSY", new RegExp(`process ${process.pid} still runs here`));
    });

    it("never lets a lock steer a delete outside its own release", async () => {
      const outside = path.join(dir, "precious.txt");
      await fsp.writeFile(outside, "keep me");
      await release({ root, project: "p", version: "1.0", files: [app] });
      await fsp.writeFile(lockPath(), JSON.stringify({
        op: "release", version: "2.0", host: os.hostname(), pid: deadPid(), started: "",
        undo: ["p/2.0/../../../precious.txt", "../precious.txt", "p/1.0_app.js", "p/version", "q/2.0_x"],
      }));
      await release({ root, project: "p", version: "2.0", files: [app] });
      expect(await fsp.readFile(outside, "utf8")).to.equal("keep me");
      expect(await fsp.readFile(path.join(root, "p", "1.0_app.js"), "utf8")).to.equal(appText);
    });

    // A real `espruino-ota release` child process, killed (SIGKILL) as soon as it reached
    // each point; then the same version is published again.
    it("killed for real at several points, then published again", async function () {
      this.timeout(120000);
      const bigs: string[] = [];
      for (let i = 0; i < 4; i++) bigs.push(await input(dir, `big${i}.bin`, randomBytes(16 * 1024 * 1024)));
      const cli = path.join(process.cwd(), "tools", "bin.ts"); // the executable (tools/cli.ts is its module)
      await fsp.mkdir(root);
      const points: [string, (names: string[]) => boolean][] = [
        ["the lock is taken", (n) => n.includes(".ota-tmp-lock")],
        ["a file is being written", (n) => n.some((f) => /^\.ota-tmp-\d+-[0-9a-f]{12}-v\d_big/.test(f))],
        ["a file is in place", (n) => n.some((f) => /^v\d_big\d\.bin$/.test(f))],
        ["two files are in place", (n) => n.filter((f) => /^v\d_big\d\.bin$/.test(f)).length >= 2],
      ];
      const seen: string[] = [];
      for (let i = 0; i < points.length; i++) {
        const [what, reached] = points[i];
        const version = `v${i}`;
        const pdir = path.join(root, "k");
        const child = spawn(process.execPath, ["--import", "tsx", cli, "release", "--root", root, "--project", "k", "--version", version, ...bigs], { stdio: "ignore" });
        const exited = new Promise((r) => child.once("exit", r));
        let done = false;
        child.once("exit", () => (done = true));
        const deadline = Date.now() + 60000;
        while (!done && Date.now() < deadline) {
          const names = await fsp.readdir(pdir).catch(() => [] as string[]);
          if (reached(names.filter((n) => n.includes(version) || n == ".ota-tmp-lock"))) break;
          await new Promise((r) => setImmediate(r));
        }
        child.kill("SIGKILL");
        await exited;
        const after = await fsp.readdir(pdir);
        const live = await fsp.readFile(path.join(pdir, "version"), "utf8").catch(() => undefined);
        seen.push(`${what}: ${after.filter((n) => n.includes(version) || n.startsWith(".ota-tmp-lock")).sort().join(" ")}${live == version ? " (live)" : ""}`);
        if (live == version) {
          await rejects(release({ root, project: "k", version, files: bigs }), "EEXIST");
        } else {
          expect(after.some((n) => n.includes(version) || n == ".ota-tmp-lock"), `${what}: the kill left something`).to.equal(true);
          const r = await release({ root, project: "k", version, files: bigs });
          expect(r.recovered, what).to.deep.include({ op: "release", pid: child.pid });
        }
        expect((await fsp.readFile(path.join(pdir, "version"), "utf8")), what).to.equal(version);
        const m = await readManifest(path.join(pdir, `${version}_manifest.txt`));
        for (const f of m.files) expect((await fsp.stat(path.join(pdir, `${version}_${f.name}`))).size, what).to.equal(f.size);
        expect((await fsp.readdir(pdir)).filter((n) => n.startsWith(".ota-tmp-")), what).to.deep.equal([]);
      }
      console.log("      states the kills left:\n" + seen.map((x) => "        " + x).join("\n"));
      // The kill points that used to make a version unpublishable were reached.
      expect(seen.filter((s) => /v\d_big\d\.bin/.test(s) && !/manifest/.test(s)).length, seen.join("\n")).to.be.greaterThan(0);
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
        let m;
        try {
          m = await readManifest(path.join(root, filePath(project, v, MANIFEST, layout)));
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
        files.push(manifestFile(path.basename(f), digestBytes(data)));
      }
      await fsp.writeFile(path.join(root, filePath("naive", "1.0", MANIFEST)), manifestText(buildManifest({ project: "naive", version: "1.0", seq: 1, files })));
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
    expect(r.code, "a root that does not exist").to.equal(1);
    expect(r.err).to.match(/does not exist.*ENOENT/);
    await fsp.mkdir(root);
    r = await run("release", "--root", root, "--project", "p", "--version", "1", "--key", key, `.bootcde=${app}`);
    expect(r.code, r.err).to.equal(0);
    const m = await readManifest(path.join(root, "p", "1_manifest.txt"));
    expect(m.files[0].name).to.equal(".bootcde");
    expect(m.sig).to.equal(createHmac("sha256", "secret").update(signedText(m)).digest("hex"));
    r = await run("release", "--root", root, "--project", "p", "--version", "2", "--layout", "subdir", app);
    expect(r.code, r.err).to.equal(0);
    r = await run("release", "--root", root, "--project", "p", "--version", "2", app);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/already published.*EEXIST/);
    r = await run("list", "--root", root, "--project", "p");
    expect(r.out).to.match(/live: 2/).and.match(/\* 2  seq 2  subdir/);
    r = await run("release", "--root", root, "--project", "p", "--version", "3", app);
    expect(r.code, r.err).to.equal(0);
    r = await run("rollback", "--root", root, "--project", "p", "--version", "1");
    expect(r.code, r.err).to.equal(0);
    expect(r.err, "rolling back a signed release without --key").to.match(/warning: .*EREJECTED.*rollback --key/);
    r = await run("prune", "--root", root, "--project", "p", "--keep", "0");
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/removed: 2; kept: 3 1/);
  });

  it("prints one JSON document on stdout with --json, and nothing else there", async () => {
    const app = await input(dir, "app.js", "1");
    const root = path.join(dir, "root");
    await fsp.mkdir(root);
    const base = ["--root", root, "--project", "p", "--json"];
    let r = await run("release", ...base, "--version", "1", app);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out)).to.deep.include({ project: "p", version: "1", seq: 1, layout: "prefix" });
    await run("release", ...base, "--version", "2", app);
    r = await run("list", ...base);
    const listed = JSON.parse(r.out);
    expect(listed.live).to.equal("2");
    expect(listed.versions.map((v: any) => [v.version, v.seq])).to.deep.equal([["1", 1], ["2", 2]]);
    r = await run("rollback", ...base, "--version", "1");
    expect(JSON.parse(r.out)).to.deep.include({ version: "1", previous: "2", resigned: false });
    r = await run("prune", ...base, "--keep", "0", "--dry-run");
    expect(JSON.parse(r.out)).to.deep.include({ dryRun: true, removed: [], kept: ["2", "1"] });
    expect(r.err).to.equal("");
  });

  it("refuses S3 options on a folder root, and a bad --version-max-age, as usage errors", async () => {
    const app = await input(dir, "app.js", "1");
    for (const extra of [["--endpoint", "http://127.0.0.1:1"], ["--path-style"], ["--version-max-age", "10"]]) {
      const r = await run("release", "--root", dir, "--project", "p", "--version", "1", ...extra, app);
      expect(r.code, extra.join(" ")).to.equal(2);
      expect(r.err).to.match(/only apply to an s3:\/\/ root/);
    }
    const r = await run("release", "--root", "s3://b", "--project", "p", "--version", "1", "--version-max-age", "soon", app);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/whole number/);
  });

  it("gives every option of release, rollback, list and prune a help text", async () => {
    const { commands } = await import("../tools/cli.ts");
    for (const name of ["release", "rollback", "list", "prune"]) {
      for (const [opt, spec] of Object.entries(commands[name].options)) expect(spec.help, `${name} --${opt}`).to.be.a("string").and.not.equal("");
    }
  });
});
