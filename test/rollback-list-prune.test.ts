// tools/rollback.ts, tools/list.ts, tools/prune.ts on releases made by tools/release.ts.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { filePath, MANIFEST, E_VERSION, E_OPTS, E_NAME, E_SIG, E_SYMLINK } from "../modules/formats.ts";
import { release } from "../tools/release.ts";
import { buildManifest, manifestText, readManifest } from "../tools/lib/manifest.ts";
import { digestBytes, manifestFile } from "../tools/lib/digest.ts";
import { rollback } from "../tools/rollback.ts";
import { list } from "../tools/list.ts";
import { prune } from "../tools/prune.ts";
import { rejects } from "./lib/rejects.ts";

const exists = (p: string) => fsp.access(p).then(() => true, () => false);

describe("rollback, list, prune", () => {
  let dir: string;
  let root: string;
  let a: string;
  let b: string;
  const live = () => fsp.readFile(path.join(root, "p", "version"), "utf8");
  const at = (v: string, name: string, layout = "prefix") => path.join(root, filePath("p", v, name, layout));

  // Three releases, published (by manifest mtime) in the order 1.0, 1.1, 1.2.
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-rlp-"));
    root = path.join(dir, "root");
    a = path.join(dir, "a.js");
    b = path.join(dir, "b.bin");
    await fsp.writeFile(a, "A");
    await fsp.writeFile(b, Buffer.alloc(300, 7));
    const t0 = Date.now() / 1000 - 3600;
    const rels: [string, "prefix" | "subdir"][] = [["1.0", "prefix"], ["1.1", "subdir"], ["1.2", "prefix"]];
    for (let i = 0; i < rels.length; i++) {
      const [v, layout] = rels[i];
      const r = await release({ root, project: "p", version: v, layout, files: [a, b] });
      await fsp.utimes(r.manifestPath, t0 + i * 60, t0 + i * 60);
    }
  });
  afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

  describe("list", () => {
    it("finds releases of both layouts by their manifests, oldest first", async () => {
      const r = await list({ root, project: "p" });
      expect(r.live).to.equal("1.2");
      expect(r.versions.map((v) => [v.version, v.layout])).to.deep.equal([["1.0", "prefix"], ["1.1", "subdir"], ["1.2", "prefix"]]);
      expect(r.versions[1].files.map((f) => [f.name, f.size])).to.deep.equal([["a.js", 1], ["b.bin", 300]]);
      expect(r.versions[0].published).to.be.instanceOf(Date);
      expect(r.versions[0].published.getTime()).to.be.lessThan(r.versions[1].published.getTime());
      expect(r.skipped).to.deep.equal([]);
    });

    it("ignores temporary files and directories without a manifest; reports broken manifests", async () => {
      await fsp.writeFile(path.join(root, "p", ".ota-tmp-1-x-9.9_manifest.txt"), "{");
      await fsp.mkdir(path.join(root, "p", "3.0"));
      await fsp.writeFile(at("4.0", MANIFEST), "not json");
      const r = await list({ root, project: "p" });
      expect(r.versions.map((v) => v.version)).to.deep.equal(["1.0", "1.1", "1.2"]);
      expect(r.skipped.map((s) => path.basename(s.path))).to.deep.equal(["4.0_manifest.txt"]);
    });

    it("returns nothing for an unknown project", async () => {
      expect(await list({ root, project: "nope" })).to.deep.equal({ live: undefined, versions: [], skipped: [] });
    });
  });

  describe("rollback", () => {
    it("points version at a published release of either layout", async () => {
      let r = await rollback({ root, project: "p", version: "1.0" });
      expect(r).to.include({ version: "1.0", previous: "1.2", layout: "prefix" });
      expect(await live()).to.equal("1.0");
      r = await rollback({ root, project: "p", version: "1.1" });
      expect(r).to.include({ version: "1.1", previous: "1.0", layout: "subdir" });
      expect(await live()).to.equal("1.1");
      const all = await fsp.readdir(path.join(root, "p"));
      expect(all.filter((f) => f.startsWith(".ota-tmp-"))).to.deep.equal([]);
    });

    it("refuses a release with a missing or truncated file, and leaves version alone", async () => {
      await fsp.rm(at("1.0", "b.bin"));
      await rejects(rollback({ root, project: "p", version: "1.0" }), "ENOENT", /1\.0_b\.bin is missing/);
      await fsp.writeFile(at("1.1", "b.bin", "subdir"), "short");
      await rejects(rollback({ root, project: "p", version: "1.1" }), "ENOENT", /5 bytes, its manifest says 300/);
      expect(await live()).to.equal("1.2");
    });

    it("needs file names for a release without a manifest", async () => {
      await fsp.writeFile(at("0.9", "main.js"), "old");
      await rejects(rollback({ root, project: "p", version: "0.9" }), "ENOVERSION", /no manifest/);
      await rejects(rollback({ root, project: "p", version: "0.9", files: ["main.js", "lib.js"] }), "ENOENT", /0\.9_lib\.js/);
      const r = await rollback({ root, project: "p", version: "0.9", files: ["main.js"] });
      expect(r.files).to.deep.equal(["main.js"]);
      expect(await live()).to.equal("0.9");
    });

    it("refuses versions the device would reject, and a wrong layout", async () => {
      await rejects(rollback({ root, project: "p", version: "1 0" }), E_VERSION);
      await rejects(rollback({ root, project: "p", version: "1.1", layout: "prefix" }), "ENOVERSION");
      await rejects(rollback({ root, project: "p", version: "1.0", layout: "diagonal" }), E_OPTS);
    });
  });

  describe("prune", () => {
    it("keeps the newest N and the live one, removing files and manifests", async () => {
      await rollback({ root, project: "p", version: "1.0" });
      const r = await prune({ root, project: "p", keep: 1 });
      expect(r.removed).to.deep.equal(["1.1"]);
      expect(r.kept.sort()).to.deep.equal(["1.0", "1.2"]);
      expect(await exists(path.join(root, "p", "1.1"))).to.equal(false); // subdir removed
      expect(await exists(at("1.0", "a.js"))).to.equal(true);
      expect(await exists(at("1.2", MANIFEST))).to.equal(true);
      expect(await live()).to.equal("1.0");
    });

    it("never removes the live version, even with keep 0", async () => {
      const r = await prune({ root, project: "p", keep: 0 });
      expect(r.removed.sort()).to.deep.equal(["1.0", "1.1"]);
      expect(r.kept).to.deep.equal(["1.2"]);
      expect((await fsp.readdir(path.join(root, "p"))).sort()).to.deep.equal(["1.2_a.js", "1.2_b.bin", "1.2_manifest.txt", "version"]);
      expect((await list({ root, project: "p" })).versions.map((v) => v.version)).to.deep.equal(["1.2"]);
    });

    it("leaves files it does not know in a version subdirectory", async () => {
      await fsp.writeFile(path.join(root, "p", "1.1", "notes.txt"), "mine");
      await prune({ root, project: "p", keep: 1 });
      expect(await fsp.readdir(path.join(root, "p", "1.1"))).to.deep.equal(["notes.txt"]);
    });

    it("removes nothing on a dry run, and refuses a bad keep", async () => {
      const r = await prune({ root, project: "p", keep: 0, dryRun: true });
      expect(r.removed.sort()).to.deep.equal(["1.0", "1.1"]);
      expect((await list({ root, project: "p" })).versions).to.have.length(3);
      await rejects(prune({ root, project: "p", keep: -1 }), E_OPTS);
      await rejects(prune({ root, project: "p", keep: 1.5 }), E_OPTS);
    });
  });
  describe("stay inside the root (issue 10 item 7)", () => {
    let outside: string; // a file outside the root that nothing may read or delete
    const untouched = async () => expect(await fsp.readFile(outside, "utf8")).to.equal("outside");

    beforeEach(async () => {
      outside = path.join(dir, "x");
      await fsp.writeFile(outside, "outside");
    });

    // A manifest, made with the lead's functions, that names a file "../../../x": in both
    // layouts that path leads from the release's folder to the file outside the root.
    async function hostileRelease(version: string, layout: "prefix" | "subdir") {
      const m = buildManifest({ project: "p", version, seq: 1, files: [manifestFile("../../../x", digestBytes(Buffer.from("outside")))] });
      await fsp.mkdir(path.dirname(at(version, MANIFEST, layout)), { recursive: true });
      await fsp.writeFile(at(version, MANIFEST, layout), manifestText(m));
      const t = Date.now() / 1000 - 7200; // the oldest release, first in line for prune
      await fsp.utimes(at(version, MANIFEST, layout), t, t);
    }

    for (const layout of ["prefix", "subdir"] as const) {
      it(`a manifest naming ../../../x (${layout}): list reports it, prune and rollback touch nothing outside`, async () => {
        await hostileRelease("0.5", layout);
        const l = await list({ root, project: "p" });
        expect(l.versions.map((v) => v.version)).to.deep.equal(["1.0", "1.1", "1.2"]);
        expect(l.skipped).to.have.length(1);
        expect(l.skipped[0].reason).to.match(/names a file that holds a slash.*"\.\.\/\.\.\/\.\.\/x"/);
        const r = await prune({ root, project: "p", keep: 0 });
        expect(r.removed.sort()).to.deep.equal(["1.0", "1.1"]);
        expect(r.skipped).to.have.length(1);
        await untouched();
        expect(await exists(at("0.5", MANIFEST, layout)), "the hostile release is left for a human").to.equal(true);
        await rejects(rollback({ root, project: "p", version: "0.5" }), E_NAME, /\.\.\/\.\.\/\.\.\/x/);
        expect(await live()).to.equal("1.2");
        await untouched();
      });
    }

    it("a manifest made for another project: list reports it, rollback refuses it", async () => {
      const m = await readManifest(at("1.0", MANIFEST));
      await fsp.writeFile(at("0.7", MANIFEST), manifestText(buildManifest({ project: "other", version: "0.7", seq: 9, files: m.files })));
      for (const f of m.files) await fsp.copyFile(at("1.0", f.name), at("0.7", f.name));
      const l = await list({ root, project: "p" });
      expect(l.skipped.map((x) => x.reason)).to.deep.equal(['is for project "other"']);
      await rejects(rollback({ root, project: "p", version: "0.7" }), "EMANIFEST", /for project "other"/);
      expect(await live()).to.equal("1.2");
    });

    it("a release file that is a symlink out of the root: prune leaves that release whole, rollback refuses it", async () => {
      await fsp.rm(at("1.0", "a.js"));
      await fsp.symlink(outside, at("1.0", "a.js"));
      const r = await prune({ root, project: "p", keep: 0 });
      expect(r.removed).to.deep.equal(["1.1"]);
      expect(r.skipped.map((x) => x.reason).join()).to.match(/symlink/);
      expect(await exists(at("1.0", MANIFEST)), "not half removed").to.equal(true);
      await untouched();
      await rejects(rollback({ root, project: "p", version: "1.0" }), E_SYMLINK);
      expect(await live()).to.equal("1.2");
    });

    it("a version folder that is a symlink to a release outside the root: not listed, not removed, not rolled back to", async () => {
      const elsewhere = path.join(dir, "elsewhere");
      await fsp.cp(path.join(root, "p", "1.1"), elsewhere, { recursive: true });
      await fsp.rm(path.join(root, "p", "1.1"), { recursive: true });
      await fsp.symlink(elsewhere, path.join(root, "p", "1.1"));
      expect((await list({ root, project: "p" })).versions.map((v) => v.version)).to.deep.equal(["1.0", "1.2"]);
      await prune({ root, project: "p", keep: 0 });
      expect((await fsp.readdir(elsewhere)).sort()).to.deep.equal(["a.js", "b.bin", MANIFEST]);
      await rejects(rollback({ root, project: "p", version: "1.1", layout: "subdir" }), E_SYMLINK);
      expect(await live()).to.equal("1.2");
    });

    it("a project folder that is a symlink out of the root: list, prune and rollback refuse it", async () => {
      const elsewhere = path.join(dir, "elsewhere");
      await fsp.cp(path.join(root, "p"), elsewhere, { recursive: true });
      await fsp.symlink(elsewhere, path.join(root, "q"));
      await rejects(list({ root, project: "q" }), E_SYMLINK);
      await rejects(prune({ root, project: "q", keep: 0 }), E_SYMLINK);
      await rejects(rollback({ root, project: "q", version: "1.0" }), E_SYMLINK);
      expect((await fsp.readdir(elsewhere)).sort()).to.deep.equal((await fsp.readdir(path.join(root, "p"))).sort());
      expect(await fsp.readFile(path.join(elsewhere, "version"), "utf8")).to.equal("1.2");
    });

    it("a version file that is a symlink out of the root: rollback does not write through it", async () => {
      await fsp.rm(path.join(root, "p", "version"));
      await fsp.symlink(outside, path.join(root, "p", "version"));
      await rejects(rollback({ root, project: "p", version: "1.0" }), E_SYMLINK);
      await untouched();
    });
  });

  describe("rollback and signing (issue 10 item 4, tools side)", () => {
    const key = Buffer.from("fleet key");
    let signedRoot: string;
    beforeEach(async () => {
      signedRoot = path.join(dir, "signed");
      for (const v of ["1.0", "1.1"]) await release({ root: signedRoot, project: "s", version: v, key, files: [a, b] });
      await release({ root: signedRoot, project: "s", version: "0.1", files: [a] }); // unsigned, seq 3
    });
    const manifestOf = (v: string) => readManifest(path.join(signedRoot, filePath("s", v, MANIFEST)));

    it("--key re-signs the older release with one more than the highest seq; the next release counts on from it", async () => {
      const r = await rollback({ root: signedRoot, project: "s", version: "1.0", key });
      expect(r).to.deep.include({ version: "1.0", previous: "0.1", seq: 4, resigned: true, warning: undefined });
      const m = await manifestOf("1.0");
      expect(m).to.include({ project: "s", version: "1.0", seq: 4 });
      // Valid under the key: the lead's buildManifest over the same fields gives the same signatures.
      const again = buildManifest({ project: "s", version: "1.0", seq: 4, files: m.files }, key);
      expect([m.sig, m.sig1]).to.deep.equal([again.sig, again.sig1]);
      expect(await fsp.readFile(path.join(signedRoot, "s", "version"), "utf8")).to.equal("1.0");
      expect((await release({ root: signedRoot, project: "s", version: "1.2", key, files: [a] })).seq).to.equal(5);
      expect((await list({ root: signedRoot, project: "s" })).versions.map((v) => [v.version, v.seq])).to.deep.equal([["1.1", 2], ["0.1", 3], ["1.0", 4], ["1.2", 5]]);
    });

    it("without --key, says that boards with a key will refuse a signed older release (EREJECTED)", async () => {
      const r = await rollback({ root: signedRoot, project: "s", version: "1.0" });
      expect(r.resigned).to.equal(false);
      expect(r.warning).to.match(/seq 1, below the project's highest \(3\).*EREJECTED.*rollback --key/);
      expect((await manifestOf("1.0")).seq).to.equal(1);
      expect(await fsp.readFile(path.join(signedRoot, "s", "version"), "utf8")).to.equal("1.0");
    });

    it("--key refuses a release that is unsigned or signed with another key, and changes nothing", async () => {
      await rejects(rollback({ root: signedRoot, project: "s", version: "0.1", key }), E_SIG, /not signed: re-signing would vouch/);
      await rejects(rollback({ root: signedRoot, project: "s", version: "1.0", key: "another key" }), E_SIG, /not signed with this key/);
      expect((await manifestOf("1.0")).seq).to.equal(1);
      expect(await fsp.readFile(path.join(signedRoot, "s", "version"), "utf8")).to.equal("0.1");
    });
  });

  describe("prune and seq", () => {
    it("always keeps the newest release (it holds the highest seq), even when an older one is live", async () => {
      await rollback({ root, project: "p", version: "1.0" });
      const r = await prune({ root, project: "p", keep: 0 });
      expect(r.removed).to.deep.equal(["1.1"]);
      expect(r.kept).to.deep.equal(["1.2", "1.0"]);
      expect((await release({ root, project: "p", version: "2.0", files: [a] })).seq).to.equal(4);
    });

    it("never deletes a key that a kept release's manifest also names", async () => {
      // Version "1" file "0_x" and version "1_0" file "x" are the same key in the prefix layout.
      const x = path.join(dir, "x.js");
      await fsp.writeFile(x, "x");
      await release({ root, project: "c", version: "1_0", files: [{ name: "x", path: x }] });
      const m = buildManifest({ project: "c", version: "1", seq: 2, files: [manifestFile("0_x", digestBytes(Buffer.from("x")))] });
      await fsp.writeFile(path.join(root, "c", "1_manifest.txt"), manifestText(m));
      await fsp.writeFile(path.join(root, "c", "version"), "1");
      const t = Date.now() / 1000 + 60;
      await fsp.utimes(path.join(root, "c", "1_manifest.txt"), t, t);
      const r = await prune({ root, project: "c", keep: 0 });
      expect(r.removed).to.deep.equal(["1_0"]);
      expect(await fsp.readFile(path.join(root, "c", "1_0_x"), "utf8")).to.equal("x");
    });
  });
});
