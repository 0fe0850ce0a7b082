// `espruino-ota flash`: the upload script (--dry-run) and a real flash through the espruino
// CLI into the emulator's telnet console, then the flashed board updating from a local server.
import { expect } from "chai";
import net from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { treeSnapshot } from "./lib/snapshot.ts";
import { nameError } from "../modules/formats.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board } from "../emulator/board.ts";
import { startConsoleServer } from "../emulator/console-server.ts";
import { flash, DONE } from "../tools/flash.ts";
import { MODULES } from "../scripts/build.ts";
import { serve, type ServeHandle } from "../tools/serve.ts";
import { main } from "../tools/cli.ts";
import { sampleApp, publish, newRoot, installed } from "../harness/device.ts";

const dir = mkdtempSync(join(tmpdir(), "flash-test-"));
const APP = join(dir, "app.js");
writeFileSync(APP, 'print("app " + "booted");\n');

// tty: stderr claims to be a terminal, so that progress is shown there
function io(tty = false) {
  let out = "", err = "";
  return {
    io: { stdout: { write: (s: string) => { out += s; return true; } } as any, stderr: { isTTY: tty, write: (s: string) => { err += s; return true; } } as any },
    out: () => out, err: () => err,
  };
}

async function waitFor(b: Board, text: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!b.output.includes(text)) {
    if (Date.now() > end) throw new Error(`board never printed "${text}"; it printed:\n${b.output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("flash", function () {
  this.timeout(60000);

  describe("--dry-run", function () {
    it("is byte-stable", async function () {
      const a = join(dir, "a.js"), b = join(dir, "b.js");
      const opts = { board: "ESP32", app: APP, wifi: "home:secret123", host: "http://127.0.0.1:8080", project: "sample" };
      await flash({ ...opts, dryRun: a });
      await flash({ ...opts, dryRun: b });
      expect(readFileSync(a).equals(readFileSync(b))).to.equal(true);
      const s = readFileSync(a, "latin1");
      expect(s).to.match(/^require\("Storage"\)\.write\("ota",atob\("[A-Za-z0-9+/=]{512}"\),0,\d+\);$/m);
      for (const l of s.split("\n")) expect(l.length).to.be.below(1024);
    });

    it("run on a fresh board, gives the expected Storage and boots the app", async function () {
      const out = join(dir, "flash.js");
      const r = await flash({ board: "ESP32", app: APP, wifi: "home:pass:word:1", host: "http://10.0.0.2:8080/", project: "sample", files: [".bootcde", "main"], dryRun: out });
      expect(r.files.map((f) => f.name)).to.deep.equal(["ota", ".boot0", ".bootPowerOn", ".bootcde", "wifi.json", "ota.json"]);
      const b = new Board({ board: "ESP32" });
      b.powerOn();
      b.flash.writeFile(".otaj", '{"v":"x","p":"y","f":[".bootcde"]}'); // a stale journal …
      b.flash.writeFile(".ota_0", "old staged code"); // … and staging from an earlier life
      b.flash.writeFile(".otav", '{"v":"old"}');
      b.exec(readFileSync(out, "latin1"));
      expect(b.output).to.include(DONE);
      const f = b.flash;
      expect(f.readFile("ota")!.equals(readFileSync(join(MODULES, "ota.tok")))).to.equal(true);
      expect(f.readFile(".boot0")!.equals(readFileSync(join(MODULES, "boot.tok")))).to.equal(true);
      expect(f.readFile(".bootPowerOn")!.equals(readFileSync(join(MODULES, "count.min.js")))).to.equal(true);
      expect(f.readFile(".bootcde")!.equals(readFileSync(APP))).to.equal(true);
      expect(JSON.parse(f.readFile("wifi.json")!.toString())).to.deep.equal({ ssid: "home", password: "pass:word:1" });
      expect(JSON.parse(f.readFile("ota.json")!.toString())).to.deep.equal({ host: "http://10.0.0.2:8080", project: "sample", files: [".bootcde", "main"] });
      for (const n of [".otaj", ".ota_0", ".otav"]) expect(f.readFile(n), n).to.equal(undefined);
      expect(await b.run({ timeout: 5000, maxReboots: 1 })).to.equal("idle");
      expect(b.reboots).to.equal(1);
      expect(b.output).to.include("app booted");
    });

    it("--version records the flashed app as an installed release", async function () {
      const out = join(dir, "v.js");
      await flash({ board: "ESP8266_4MB", app: APP, version: "v7", dryRun: out });
      const b = new Board({ board: "ESP8266_4MB" });
      b.powerOn();
      b.exec(readFileSync(out, "latin1"));
      expect(b.exec('require("ota").version()')).to.equal("v7");
    });

    it("--text stores the module and the boot stage as text, which run the same", async function () {
      const out = join(dir, "text.js");
      const c = io();
      expect(await main(["flash", "--board", "ESP8266_4MB", "--dry-run", out, "--text", "--version", "v7", APP], c.io), c.err()).to.equal(0);
      const b = new Board({ board: "ESP8266_4MB" });
      b.powerOn();
      b.exec(readFileSync(out, "latin1"));
      expect(b.output).to.include(DONE);
      expect(b.flash.readFile("ota")!.equals(readFileSync(join(MODULES, "ota.min.js")))).to.equal(true);
      expect(b.flash.readFile(".boot0")!.equals(readFileSync(join(MODULES, "boot.min.js")))).to.equal(true);
      expect(await b.run({ timeout: 5000, maxReboots: 1 })).to.equal("idle");
      expect(b.output).to.include("app booted");
      expect(b.exec('require("ota").version()')).to.equal("v7");
    });
  });

  describe("command line", function () {
    it("fails clearly on a missing app, before connecting", async function () {
      const c = io();
      expect(await main(["flash", "--board", "ESP32", "--port", "tcp://127.0.0.1:1", join(dir, "nope.js")], c.io)).to.equal(1);
      expect(c.err()).to.match(/app .*nope\.js does not exist/);
    });

    it("reads the shipped device files and writes nothing into the package", async function () {
      const before = treeSnapshot(MODULES);
      const c = io();
      expect(await main(["flash", "--board", "ESP32", "--dry-run", join(dir, "ro.js"), APP], c.io), c.err()).to.equal(0);
      expect(c.out()).to.match(/^wrote \S+ro\.js \(\d+ bytes\): ota \d+ B, \.boot0 \d+ B, \.bootPowerOn \d+ B, \.bootcde \d+ B\n$/);
      expect(c.err()).to.equal(""); // no progress on a pipe
      expect(treeSnapshot(MODULES)).to.equal(before);
    });

    it("refuses a Storage name the board cannot hold, or the updater's own, with formats.ts's words", async function () {
      for (const name of ["a-storage-name-over-28-chars.js", "a:b", ".otav"]) {
        const why = nameError(name);
        expect(why, name).not.to.equal("");
        const c = io();
        expect(await main(["flash", "--board", "ESP32", "--dry-run", join(dir, "n.js"), "--name", name, APP], c.io)).to.equal(1);
        expect(c.err()).to.include(`app name "${name}" ${why}`).and.include("(ENAME)");
      }
      const c = io();
      expect(await main(["flash", "--board", "ESP32", "--dry-run", join(dir, "n.js"), "--storage", `.otaj=${APP}`], c.io)).to.equal(1);
      expect(c.err()).to.include('Storage name ".otaj" is reserved for the updater');
      // .boot0 may be a release's file (a new boot stage), but flash writes its own
      const b = io();
      expect(await main(["flash", "--board", "ESP32", "--dry-run", join(dir, "n.js"), "--name", ".boot0", APP], b.io)).to.equal(2);
      expect(b.err()).to.include('Storage file ".boot0" is given twice');
    });

    it("takes -p and -b, the espruino CLI's and esptool's spellings of --port and --baud", async function () {
      const c = io();
      expect(await main(["flash", "--board", "ESP32", "-p", "/dev/ttyNOPE0", "-b", "9600", APP], c.io)).to.equal(1);
      expect(c.err()).to.include("serial port /dev/ttyNOPE0 does not exist").and.include("(ENOPORT)");
      const b = io();
      expect(await main(["flash", "--board", "ESP32", "-p", "tcp://127.0.0.1:1", "-b", "fast", APP], b.io)).to.equal(2);
      expect(b.err()).to.include('--baud must be a whole number, not "fast"');
    });

    it("fails clearly without a port", async function () {
      const c = io();
      expect(await main(["flash", "--board", "ESP32", APP], c.io)).to.equal(2);
      expect(c.err()).to.include("missing --port");
    });

    it("fails clearly on an unknown board", async function () {
      const c = io();
      expect(await main(["flash", "--board", "ESP99", "--dry-run", join(dir, "x.js"), APP], c.io)).to.equal(1);
      expect(c.err()).to.match(/unknown board "ESP99".*ESP32/);
    });

    it("fails clearly, in time, when the board does not answer", async function () {
      const silent = net.createServer((sock) => { sock.on("data", () => {}); });
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
      try {
        const c = io();
        const t = Date.now();
        const port = (silent.address() as net.AddressInfo).port;
        expect(await main(["flash", "--board", "ESP32", "--port", `tcp://127.0.0.1:${port}`, "--timeout", "20", APP], c.io)).to.equal(1);
        expect(c.err()).to.include("does not answer").and.include("ENOANSWER");
        expect(Date.now() - t).to.be.below(15000);
      } finally {
        silent.close();
      }
    });
  });

  describe("the sample app (examples/sample/main.js)", function () {
    let server: ServeHandle | undefined;
    afterEach(async () => { await server?.close(); server = undefined; });

    /** Flashes `app` (dry run), publishes it as v1 and v2 and boots through both installs. */
    async function twoReleases(app: string) {
      const root = newRoot();
      server = await serve({ root, port: 0, log: () => {} });
      const appFile = join(dir, "sample-under-test.js");
      writeFileSync(appFile, app);
      const script = join(dir, "sample-flash.js");
      await flash({ board: "ESP32", app: appFile, wifi: "lab:labpassword", host: server.url, project: "s", files: [".bootcde"], reset: false, dryRun: script });
      const b = new Board({ board: "ESP32" });
      b.powerOn();
      b.exec(readFileSync(script, "latin1"));
      await publish(root, "s", "v1", { ".bootcde": app + "// v1\n" });
      b.powerOn();
      await b.run({ timeout: 20000 }); // installs v1, reboots into it
      await publish(root, "s", "v2", { ".bootcde": app + "// v2\n" });
      b.output = "";
      b.powerOn();
      await b.run({ timeout: 20000 }); // v1 installs v2, which starts on trial (20 s < confirmAfter)
      expect(b.errors).to.deep.equal([]);
      expect(b.output).to.include("sample app running, release v2");
      return b.exec("require(\"ota\").status()") as { version: string; previous: string; pending: boolean };
    }

    it("confirms its release once Wi-Fi is up and the server answered", async function () {
      const st = await twoReleases(readFileSync("examples/sample/main.js", "latin1"));
      expect(st).to.deep.include({ version: "v2", previous: "v1", pending: false });
    });

    it("(control: without its confirm() call, the release would still be on trial)", async function () {
      const app = readFileSync("examples/sample/main.js", "latin1");
      const without = app.replace(/^.*require\("ota"\)\.confirm\(\).*$/m, "");
      expect(without).not.to.equal(app);
      const st = await twoReleases(without);
      expect(st).to.deep.include({ version: "v2", previous: "v1", pending: true });
    });
  });

  describe("end to end through the real espruino CLI", function () {
    let server: ServeHandle | undefined;
    afterEach(async () => { await server?.close(); server = undefined; });

    it("flashes the sample app over telnet; the board boots it and updates from a local server", async function () {
      const root = newRoot();
      server = await serve({ root, port: 0, log: () => {} });
      const opts = { host: server.url, project: "sample", files: [".bootcde", "main"] };
      await publish(root, "sample", "v1", sampleApp("v1", opts));
      const cs = await startConsoleServer({ boardOptions: { board: "ESP32" } });
      try {
        const c = io(true);
        const code = await main(["flash", "--board", "ESP32", "--port", cs.url, "--wifi", "lab:labpassword",
          "--host", server.url, "--project", "sample", "--files", ".bootcde,main", "examples/sample/main.js"], c.io);
        expect(code, c.err() + c.out()).to.equal(0);
        // the result on stdout; progress on stderr, because it claims to be a terminal
        expect(c.out()).to.match(/^flash ok: ESP32 on tcp:\/\/127\.0\.0\.1:\d+: ota \d+ B, .*ota\.json \d+ B; the board reboots into its app\n$/);
        expect(c.err()).to.include("writing ota").and.include("flash ok, 6 files");
        const f = cs.board.flash;
        expect(f.readFile("ota")!.equals(readFileSync(join(MODULES, "ota.tok")))).to.equal(true);
        // the flashed app boots, joins Wi-Fi, finds v1, installs it and reboots into it
        await waitFor(cs.board, "main v1");
        expect(cs.board.errors).to.deep.equal([]);
        const st = installed(cs.board);
        expect(st.version).to.equal("v1");
        expect(st.files[".bootcde"]).to.equal(sampleApp("v1", opts)[".bootcde"]);
        expect(f.readFile("ota")!.equals(readFileSync(join(MODULES, "ota.tok")))).to.equal(true);
      } finally {
        await cs.close();
      }
    });
  });
});
