// Verified and signed releases: the device installs nothing whose bytes it did not
// verify against the manifest (size, then the strongest digest the board has), and with
// opts.key nothing whose manifest signature it could not check.
import { expect } from "chai";
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { otaBoard, call, publish, newRoot, installed, BOARDS } from "../harness/device.ts";
import { canonical, type ManifestFile } from "../modules/formats.ts";
import type { Board, BoardName } from "../emulator/board.ts";

const KEY = "correct horse battery staple";
const DIGEST: Record<BoardName, "sha256" | "sha1" | "crc32"> = { ESP32: "sha256", ESP8266_4MB: "sha1", ESP8266_BOARD: "crc32", LINUX: "sha256" };
const app = (v: string) => ({ ".bootcde": `print("app ${v}");`, "lib.js": `exports.v = "${v}";` + "/".repeat(300) });

for (const board of BOARDS) {
  const signs = board != "ESP8266_BOARD";
  describe(`verified releases, ${board} (${DIGEST[board]})`, function () {
    let root: string, srv: OtaServer, b: Board, opts: any, good: ReturnType<typeof installed>;
    const manifestPath = (v: string) => join(root, "p", `${v}_manifest.json`);
    const editManifest = (v: string, f: (m: any) => void) => {
      const m = JSON.parse(readFileSync(manifestPath(v), "utf8"));
      f(m);
      writeFileSync(manifestPath(v), JSON.stringify(m));
    };
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
      }, {}, "EHASH", new RegExp(DIGEST[board])));

    it("rejects a file whose size differs from the manifest (ESIZE)", () =>
      bad((v) => writeFileSync(join(root, "p", `${v}_lib.js`), "exports.v = 0;"), {}, "ESIZE", /manifest says/));

    it("rejects a wrong digest in an unsigned manifest (EHASH)", () =>
      bad((v) => editManifest(v, (m) => {
        const f = m.files[1];
        f[DIGEST[board]] = DIGEST[board] == "crc32" ? (f.crc32 + 1) >>> 0 : f[DIGEST[board]].replace(/^./, (c: string) => (c == "0" ? "1" : "0"));
        delete m.sig;
        delete m.sig1;
      }), { key: undefined }, "EHASH"));

    it("rejects a manifest that is not JSON, or names a file twice, or an unsafe name (EMANIFEST)", async () => {
      await bad((v) => writeFileSync(manifestPath(v), "<html>oops</html>"), { key: undefined }, "EMANIFEST");
      await bad((v) => editManifest(v, (m) => m.files.push(m.files[0])), { key: undefined }, "EMANIFEST", /twice/);
      await bad((v) => editManifest(v, (m) => (m.files[0].name = ".boot0")), { key: undefined }, "EMANIFEST", /reserved/);
      await bad((v) => editManifest(v, (m) => (m.files[0].name = "x".repeat(29))), { key: undefined }, "EMANIFEST", /28/);
      await bad((v) => editManifest(v, (m) => (m.files[0].name = "c:fig")), { key: undefined }, "EMANIFEST", /':'/);
    });

    if (signs) {
      it("rejects a tampered signed manifest (ESIG)", () =>
        bad((v) => editManifest(v, (m) => (m.files[0].size += 1)), {}, "ESIG", /wrong signature/));
      it("rejects a manifest without a signature when opts.key is set (ESIG)", () =>
        bad((v) => editManifest(v, (m) => { delete m.sig; delete m.sig1; }), {}, "ESIG", /not signed/));
      it("rejects a release signed with another key (ESIG)", () =>
        bad(() => {}, { key: "another key" }, "ESIG", /wrong signature/));
      it("rejects a release with no manifest when opts.key is set (ESIG)", () =>
        bad((v) => rmSync(manifestPath(v)), { files: [".bootcde", "lib.js"] }, "ESIG", /no manifest/));
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
      const r = await call(b, "update", opts);
      expect(r).to.deep.equal({ result: { updated: true, version: "v9", previous: "v1" } });
      b.output = "";
      b.powerOn();
      expect(b.output).to.contain("app v9");
      expect(installed(b)).to.deep.include({ version: "v9", files: app("v9"), leftovers: [] });
    });
  });
}

describe("manifest signature vectors", () => {
  const files: ManifestFile[] = [
    { name: ".bootcde", size: 12, sha256: "a".repeat(64), sha1: "b".repeat(40), crc32: 4294967295 },
    { name: "lib.js", size: 1, sha256: "0".repeat(64), sha1: "1".repeat(40), crc32: 0 },
  ];
  it("canonical bytes are fixed text that both sides build the same way", () => {
    expect(canonical("v1.2.3", files)).to.equal(
      "espruino-ota manifest 1\nv1.2.3\n" +
        `.bootcde\n12 ${"a".repeat(64)} ${"b".repeat(40)} 4294967295\n` +
        `lib.js\n1 ${"0".repeat(64)} ${"1".repeat(40)} 0\n`,
    );
  });
  it("the publisher's sig and sig1 are Node's HMAC-SHA256 and HMAC-SHA1 of them", async () => {
    const root = newRoot();
    await publish(root, "p", "v1", app("v1"), "prefix", KEY);
    const m = JSON.parse(readFileSync(join(root, "p", "v1_manifest.json"), "utf8"));
    const text = canonical("v1", m.files);
    expect(m.sig).to.equal(createHmac("sha256", KEY).update(text, "latin1").digest("hex"));
    expect(m.sig1).to.equal(createHmac("sha1", KEY).update(text, "latin1").digest("hex"));
  });
});
