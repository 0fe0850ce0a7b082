// Verified and signed releases: the device installs nothing whose bytes it did not
// verify against the manifest (size, then the strongest digest the board has), and with
// opts.key nothing whose manifest signature it could not check.
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, publish, newRoot, installed, BOARDS } from "../harness/device.ts";
import { parseManifest, manifestText, signedText, type Manifest, type ManifestFile } from "../modules/formats.ts";
import { signManifest } from "../tools/lib/manifest.ts";
import type { Board, BoardName } from "../emulator/board.ts";

const KEY = "correct horse battery staple";
const DIGEST: Record<BoardName, "sha256" | "sha1" | "crc32"> = { ESP32: "sha256", ESP8266_4MB: "sha1", ESP8266_BOARD: "crc32", LINUX: "sha256" };
const app = (v: string) => ({ ".bootcde": `print("app ${v}");`, "lib.js": `exports.v = "${v}";` + "/".repeat(300) });

for (const board of BOARDS) {
  const signs = board != "ESP8266_BOARD";
  describe(`verified releases, ${board} (${DIGEST[board]})`, function () {
    let root: string, srv: OtaServer, b: Board, opts: any, good: ReturnType<typeof installed>;
    const manifestPath = (v: string) => join(root, "p", `${v}_manifest.txt`);
    // Edits a published manifest; its signature stays as it was unless f changes it.
    const editManifest = (v: string, f: (m: Manifest) => void) => {
      const m = parseManifest(readFileSync(manifestPath(v), "latin1")) as Manifest;
      f(m);
      writeFileSync(manifestPath(v), manifestText(m), "latin1");
    };
    const unsign = (m: Manifest) => { delete m.sig; delete m.sig1; };
    let n = 0;
    // Each case publishes its own release v2-<n>, tampered in one way.
    async function bad(tamper: (v: string) => void, o: object, code: string, pattern?: RegExp) {
      const v = `v2-${++n}`;
      await publish(root, "p", v, app(v), "prefix", signs ? KEY : undefined);
      tamper(v);
      const r = await call(b, "update", { ...opts, ...o });
      expect(r.err?.code, JSON.stringify(r)).to.equal(code);
      if (pattern) expect(r.err!.message).to.match(pattern);
      expect(installed(b)).to.deep.equal(good);
      b.output = "";
      b.powerOn(); // the old release still boots
      expect(b.output).to.contain("app v1");
    }

    before(async () => {
      root = newRoot();
      srv = await startOtaServer({ root });
      // opts.files is left out: the manifest names the files
      opts = { host: srv.url, project: "p", reset: "none" };
      if (signs) opts.key = KEY;
      await publish(root, "p", "v1", app("v1"), "prefix", signs ? KEY : undefined);
      b = otaBoard(board);
      b.powerOn();
      expect(await call(b, "update", opts)).to.deep.equal({ result: { updated: true, version: "v1" } });
      b.powerOn();
      good = installed(b);
      expect(good.version).to.equal("v1");
      expect(good.files).to.deep.equal(app("v1"));
    });
    after(() => srv.close());

    it("rejects tampered file bytes of the right size (EHASH)", () =>
      bad((v) => {
        const f = join(root, "p", `${v}_lib.js`);
        writeFileSync(f, readFileSync(f, "latin1").replace("v2", "v6"), "latin1");
      }, {}, "EHASH", /lib\.js/));

    it("rejects a file whose size differs from the manifest (ESIZE)", () =>
      bad((v) => writeFileSync(join(root, "p", `${v}_lib.js`), "exports.v = 0;"), {}, "ESIZE", /bytes: .*lib\.js/));

    it("rejects a wrong digest in an unsigned manifest (EHASH)", () =>
      bad((v) => editManifest(v, (m) => {
        const f = m.files[1] as any;
        f[DIGEST[board]] = DIGEST[board] == "crc32" ? (f.crc32 + 1) >>> 0 : f[DIGEST[board]].replace(/^./, (c: string) => (c == "0" ? "1" : "0"));
        unsign(m);
      }), { key: undefined }, "EHASH", /lib\.js/));

    it("rejects a manifest that is not one, names a file twice or an unsafe name, or is another project's or version's (EMANIFEST)", async () => {
      await bad((v) => writeFileSync(manifestPath(v), "<html>oops</html>"), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => { m.files.push(m.files[0]); unsign(m); }), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => { m.files[0].name = ".otax"; unsign(m); }), { key: undefined }, "EMANIFEST", /\.otax/);
      await bad((v) => editManifest(v, (m) => { m.files[0].name = "x".repeat(29); unsign(m); }), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => { m.files[0].name = "c:fig"; unsign(m); }), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => { m.version = "v7"; unsign(m); }), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => { m.project = "other"; unsign(m); }), { key: undefined }, "EMANIFEST");
    });

    if (signs) {
      it("rejects a tampered signed manifest (ESIG)", () =>
        bad((v) => editManifest(v, (m) => (m.files[0].size += 1)), {}, "ESIG", /wrong signature/));
      it("rejects a manifest without a signature when opts.key is set (ESIG)", () =>
        bad((v) => editManifest(v, unsign), {}, "ESIG", /unsigned/));
      it("rejects a release signed with another key (ESIG)", () =>
        bad(() => {}, { key: "another key" }, "ESIG", /wrong signature/));
      it("rejects a release with no manifest when opts.key is set (ESIG)", () =>
        bad((v) => rmSync(manifestPath(v)), { files: [".bootcde", "lib.js"] }, "ESIG", /unsigned/));
      it("rejects a release signed for another project that shares the key (the project is signed)", () =>
        bad((v) => editManifest(v, (m) => {
          // what the key holder signed for project "other": the same files, another header
          const other = signManifest({ ...m, project: "other" }, KEY);
          Object.assign(m, { sig: other.sig, sig1: other.sig1 });
        }), {}, "ESIG", /wrong signature/));
      it("rejects an older signed release put back on the server: its seq is not above the installed one (EREJECTED)", async () => {
        const old = "v1"; // signed, whole, and with a lower seq than the release after it
        await publish(root, "p", "v8", app("v8"), "prefix", KEY);
        const r = await call(b, "update", opts);
        expect(r.result).to.deep.include({ updated: true, version: "v8" });
        b.powerOn();
        good = installed(b);
        writeFileSync(join(root, "p", "version"), old);
        const replay = await call(b, "update", opts);
        expect(replay.err?.code, JSON.stringify(replay)).to.equal("EREJECTED");
        expect(replay.err!.message).to.match(/seq \d+ is not above \d+/);
        expect(installed(b)).to.deep.equal(good);
      });
      it("accepts keys of every length, hashed first when longer than a block (HMAC agrees with Node's crypto)", async () => {
        for (const key of ["k", "x".repeat(64), "y".repeat(65), "z".repeat(150)]) {
          const v = `v3-${key.length}`;
          await publish(root, "p", v, app(v), "prefix", key);
          const r = await call(b, "update", { ...opts, key });
          expect(r.result, `key of ${key.length} bytes`).to.deep.include({ updated: true, version: v });
          b.flash.erase(".otaj"); // stay on v1: this case only checks signatures
          good = installed(b);
        }
      });
    } else {
      it("refuses opts.key: the board has no hash to build an HMAC on (EOPTS)", async () => {
        const r = await call(b, "update", { ...opts, key: KEY });
        expect(r.err?.code).to.equal("EOPTS");
        expect(r.err?.message).to.match(/SHA/);
      });
    }

    it("installs a release that verifies, naming its files from the manifest", async () => {
      await publish(root, "p", "v9", app("v9"), "prefix", signs ? KEY : undefined);
      const previous = installed(b).version;
      let r = await call(b, "update", opts);
      if (r.err?.code == "ENOSPC") {
        // The refused releases before left Storage in pieces (16 KB on ESP8266_BOARD): the
        // update asked the boot stage to compact, which the next start does.
        expect(board).to.equal("ESP8266_BOARD");
        b.powerOn();
        r = await call(b, "update", opts);
      }
      expect(r).to.deep.equal({ result: { updated: true, version: "v9", previous } });
      b.output = "";
      b.powerOn();
      expect(b.output).to.contain("app v9");
      expect(installed(b)).to.deep.include({ version: "v9", files: app("v9"), leftovers: [] });
    });
  });
}

describe("manifest format vectors", () => {
  const files: ManifestFile[] = [
    { name: ".bootcde", size: 12, sha256: "a".repeat(64), sha1: "b".repeat(40), crc32: 4294967295 },
    { name: "my lib.js", size: 1, sha256: "0".repeat(64), sha1: "1".repeat(40), crc32: 0 },
  ];
  const m: Manifest = { project: "team/app", version: "v1.2.3", seq: 7, files };
  it("is fixed text that both sides build and read the same way", () => {
    expect(signedText(m)).to.equal(
      "espruino-ota/2 team/app v1.2.3 7 2\n" +
        `12 ${"a".repeat(64)} ${"b".repeat(40)} 4294967295 .bootcde\n` +
        `1 ${"0".repeat(64)} ${"1".repeat(40)} 0 my lib.js\n`,
    );
    expect(parseManifest(manifestText(m))).to.deep.equal(m);
  });
  it("signs every byte before the signature line: the publisher's sig and sig1 are Node's HMAC-SHA256 and HMAC-SHA1 of them", async () => {
    const root = newRoot();
    await publish(root, "p", "v1", app("v1"), "prefix", KEY);
    const text = readFileSync(join(root, "p", "v1_manifest.txt"), "latin1");
    const signed = text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1);
    const [sig, sig1] = text.slice(signed.length).trim().split(" ");
    expect(sig).to.equal(createHmac("sha256", KEY).update(signed, "latin1").digest("hex"));
    expect(sig1).to.equal(createHmac("sha1", KEY).update(signed, "latin1").digest("hex"));
  });
  it("refuses what is not a manifest: trailing text, a missing file line, a bad digest", () => {
    const t = manifestText(m);
    expect(parseManifest(t + "junk\n")).to.be.a("string");
    expect(parseManifest(t.split("\n").slice(0, 2).join("\n") + "\n")).to.be.a("string");
    expect(parseManifest(t.replace("a".repeat(64), "g".repeat(64)))).to.be.a("string");
  });
});
