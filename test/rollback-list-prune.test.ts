// tools/rollback.ts, tools/list.ts, tools/prune.ts on releases made by tools/release.ts.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { filePath, MANIFEST, E_VERSION, E_OPTS } from "../modules/formats.ts";
import { release } from "../tools/release.ts";
import { rollback } from "../tools/rollback.ts";
import { list } from "../tools/list.ts";
import { prune } from "../tools/prune.ts";

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e: any) {
    expect(e.code, e.message).to.equal(code);
    if (re) expect(e.message).to.match(re);
    return;
  }
  throw new Error(`expected a rejection with code ${code}`);
}

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
      await fsp.writeFile(path.join(root, "p", ".ota-tmp-1-x-9.9_manifest.json"), "{");
      await fsp.mkdir(path.join(root, "p", "3.0"));
      await fsp.writeFile(at("4.0", MANIFEST), "not json");
      const r = await list({ root, project: "p" });
      expect(r.versions.map((v) => v.version)).to.deep.equal(["1.0", "1.1", "1.2"]);
      expect(r.skipped.map((s) => path.basename(s.path))).to.deep.equal(["4.0_manifest.json"]);
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
      expect((await fsp.readdir(path.join(root, "p"))).sort()).to.deep.equal(["1.2_a.js", "1.2_b.bin", "1.2_manifest.json", "version"]);
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
});
