// The espruino CLI (npm `espruino` 0.1.67) through tools/espruino-cli.ts: bundling with -o,
// uploading to the emulator's telnet console, staying offline, and clear errors.
import { expect } from "chai";
import net from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board } from "../emulator/board.ts";
import { startConsoleServer, bracketsBalanced, type ConsoleServer } from "../emulator/console-server.ts";
import { bundle, upload, runCli, passthroughArgs, baseArgs, MODULES_DIR, BOARDS_DIR, type CliError } from "../tools/espruino-cli.ts";
import { OtaError } from "../tools/lib/errors.ts";

/** Espruino evaluates a function given to Modules.addCached as the module's code (jspEvaluateModule). */
export function emulatorAddCachedGap(): string | undefined {
  const b = new Board({ board: "ESP32" });
  b.powerOn();
  b.exec('Modules.addCached("m", function(){exports.y = 1;});');
  return b.exec('require("m").y') === 1 ? undefined
    : "emulator gap (emulator/board.ts): Modules.addCached(name, function(){…}) must run the function body as module code with exports/module in scope, as Espruino does; it stores the function itself, so a CLI bundle's require(\"ota\") is a function, not the module";
}

const OTA_MIN = () => readFileSync(join(MODULES_DIR, "ota.min.js"), "latin1");

async function rejects(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(OtaError); // the tools' one error type
    return e as CliError;
  }
  throw new Error("expected a rejection");
}

describe("espruino CLI wrapper", function () {
  this.timeout(30000);
  const dir = mkdtempSync(join(tmpdir(), "espruino-cli-test-"));
  const main = join(dir, "main.js");
  writeFileSync(main, 'var ota = require("ota");\nprint("version is a " + typeof ota.version);\nprint("update is a " + typeof ota.update);\n');

  describe("flags", function () {
    it("uses a local board JSON, local modules, no minifier, 115200 baud and --no-ble", function () {
      const a = passthroughArgs(["-p", "tcp://127.0.0.1:2323", "main.js"]);
      expect(a[a.indexOf("--board") + 1]).to.equal(join(BOARDS_DIR, "ESP32.json"));
      expect(a).to.include.members(["--no-ble", "-b", "115200"]);
      const configs = a.filter((_, i) => a[i - 1] == "--config");
      const url = configs.find((c) => c.startsWith("MODULE_URL="))!;
      expect(url).to.include(MODULES_DIR);
      expect(a.join(" ")).not.to.match(/https?:/);
      expect(configs).to.include.members(["MODULE_MINIFICATION_LEVEL=", "BOARD_JSON_URL=" + BOARDS_DIR]);
      expect(a).not.to.include("-m");
    });

    it("takes the board from --board, by name or path", function () {
      expect(passthroughArgs(["--board", "ESP8266_4MB", "x.js"])).to.include(join(BOARDS_DIR, "ESP8266_4MB.json"));
      expect(() => baseArgs({ board: "NOPE" })).to.throw(/unknown board "NOPE".*ESP32/);
    });
  });

  describe("bundle (-o)", function () {
    it("carries our module, from modules/ota.min.js, and skips built-ins", async function () {
      const r = await bundle({ entry: join(process.cwd(), "examples/sample/main.js"), board: "ESP32", out: join(dir, "sample.bundle.js") });
      expect(r.modules).to.deep.equal(["ota"]); // Storage and Wifi are built in
      expect(r.code).to.include(`Modules.addCached("ota",function(){${OTA_MIN().trim()}`);
      expect(readFileSync(r.out, "latin1")).to.equal(r.code);
    });

    it("leaves out modules the board already holds (builtin: [\"ota\"], as release --bundle does)", async function () {
      const r = await bundle({ entry: main, board: "ESP32", out: join(dir, "no-ota.bundle.js"), builtin: ["ota"] });
      expect(r.modules).to.deep.equal([]);
      expect(r.code).not.to.include("Modules.addCached(");
      expect(r.code).to.include('var ota = require("ota");');
      const info = JSON.parse(readFileSync(join(BOARDS_DIR, "ESP32.json"), "utf8")).info;
      expect(info.builtin_modules).not.to.include("ota"); // only a temporary copy was changed
    });

    it("runs in the emulator: require(\"ota\") is our module", async function () {
      const gap = emulatorAddCachedGap();
      if (gap) throw new Error(gap);
      const r = await bundle({ entry: main, board: "ESP32", out: join(dir, "main.bundle.js") });
      const b = new Board({ board: "ESP32" });
      b.runFile(r.code, "main.bundle.js");
      await b.settle({ timeout: 1000 });
      expect(b.errors).to.deep.equal([]);
      expect(b.output).to.include("version is a function").and.include("update is a function");
      expect(b.exec('typeof require("ota").version')).to.equal("function");
    });

    it("fails clearly on a module it cannot find, without going to the web", async function () {
      const m = join(dir, "missing.js");
      writeFileSync(m, 'require("nosuchmodule").go();\n');
      const e = await rejects(bundle({ entry: m, board: "ESP32", out: join(dir, "missing.bundle.js") }));
      expect(e.code).to.equal("ENOMODULE");
      expect(e.message).to.include("nosuchmodule").and.include(MODULES_DIR);
      expect(e.log).not.to.match(/https?:\/\//);
    });

    it("fails clearly when the program is missing", async function () {
      const e = await rejects(bundle({ entry: join(dir, "nope.js"), board: "ESP32", out: join(dir, "x.js") }));
      expect(e.code).to.equal("ENOENT");
      expect(e.message).to.include("nope.js does not exist");
    });

    it("the preload blocks any web request the CLI would make", async function () {
      const started = Date.now();
      const r = await runCli(["--board", join(BOARDS_DIR, "ESP32.json"), "--no-ble", "--config", "MODULE_URL=https://www.espruino.com/modules", "-o", join(dir, "web.js"), main], { timeout: 20000 });
      expect(r.stderr).to.include("blocked web access to https://www.espruino.com/modules/ota.min.js");
      expect(Date.now() - started).to.be.below(15000);
    });
  });

  describe("upload", function () {
    let cs: ConsoleServer;
    beforeEach(async () => { cs = await startConsoleServer({ boardOptions: { board: "ESP32" } }); });
    afterEach(async () => { await cs.close(); });

    it("sends a small program (≤ 512 bytes, which hangs the plain CLI) and sees it run", async function () {
      const code = 'var x = 20 +\n  1;\nfunction twice(a) {\n  return a * 2;\n}\nprint("answer", twice(x));\nrequire("Storage").write("hi", "there");\n';
      expect(code.length).to.be.below(512);
      const r = await upload({ port: cs.url, board: "ESP32", code });
      expect(r.output).to.include("answer 42");
      expect(cs.board.flash.readFile("hi")!.toString()).to.equal("there");
    });

    it("sends main.js with our module bundled in", async function () {
      const gap = emulatorAddCachedGap();
      if (gap) throw new Error(gap);
      const r = await upload({ port: cs.url, board: "ESP32", file: main });
      expect(r.output).to.include("version is a function");
    });

    it("refuses to guess a port", async function () {
      const e = await rejects(upload({ port: "", board: "ESP32", code: "1" }));
      expect(e.code).to.equal("ENOPORT");
      expect(e.message).to.match(/no port given.*tcp:\/\//);
      const e2 = await rejects(upload({ port: "/dev/ttyNOPE0", board: "ESP32", code: "1" }));
      expect(e2.code).to.equal("ENOPORT");
    });

    it("reports a refused connection quickly", async function () {
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      const port = (s.address() as net.AddressInfo).port;
      await new Promise<void>((r) => s.close(() => r()));
      const t = Date.now();
      const e = await rejects(upload({ port: `tcp://127.0.0.1:${port}`, board: "ESP32", code: "1", timeout: 15000 }));
      expect(e.code).to.equal("ENET");
      expect(e.message).to.include("connection refused");
      expect(Date.now() - t).to.be.below(10000);
    });

    it("reports a board that accepts the connection and says nothing", async function () {
      const silent = net.createServer((sock) => { sock.on("data", () => {}); });
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const t = Date.now();
        const e = await rejects(upload({ port: `tcp://127.0.0.1:${port}`, board: "ESP32", code: 'print("x")', timeout: 15000 }));
        expect(e.code).to.equal("ENOANSWER");
        expect(e.message).to.include("does not answer");
        expect(Date.now() - t).to.be.below(12000);
      } finally {
        silent.close();
      }
    });

    it("reports a missing program file", async function () {
      const e = await rejects(upload({ port: cs.url, board: "ESP32", file: join(dir, "gone.js") }));
      expect(e.code).to.equal("ENOENT");
    });
  });

  describe("console server REPL", function () {
    it("balances brackets like the board", function () {
      expect(bracketsBalanced("function f() {")).to.equal(false);
      expect(bracketsBalanced('print("{")')).to.equal(true);
      expect(bracketsBalanced("var r = /[(]/; f(")).to.equal(false);
      expect(bracketsBalanced("a = {b: [1, 2]}")).to.equal(true);
    });

    it("prints =value and the prompt, hides \\x10 lines, joins multi-line input", async function () {
      const cs = await startConsoleServer({ boardOptions: { board: "ESP32" } });
      const sock = net.connect(cs.port, "127.0.0.1");
      let got = "";
      sock.setEncoding("latin1");
      sock.on("data", (d: string) => { got += d; });
      const wait = async (s: string) => { for (let i = 0; i < 100 && !got.includes(s); i++) await new Promise((r) => setTimeout(r, 20)); };
      sock.write("1+2\n");
      await wait("=3");
      sock.write("\x10var hidden = 5\n");
      sock.write("function f(a) {\n return a + hidden;\n}\n");
      sock.write("f(1)\n");
      await wait("=6");
      sock.destroy();
      await cs.close();
      expect(got).to.include("1+2\r\n=3\r\n>");
      expect(got).not.to.include("hidden = 5");
      expect(got).to.include("=6\r\n>");
    });
  });
});
