// `espruino-ota release --bundle <main.js> [--as <name>] [--with-ota]`: one self-contained
// Storage file built by the espruino CLI (offline, local board JSON) from the app and the
// modules it requires, published with the real publisher, and installed over the air on an
// emulated ESP32 flashed the way `npm run flash` does it: the updater is Storage module
// "ota", so a bundle leaves it out (it counts as built in) unless --with-ota asks for it.
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { main } from "../tools/cli.ts";
import { Board } from "../emulator/board.ts";
import { flash, DONE } from "../tools/flash.ts";
import { MODULES } from "../scripts/build.ts";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { newRoot, installed } from "../harness/device.ts";

function sink() {
  let text = "";
  const s = new Writable({ write(c, _e, cb) { text += c; cb(); } });
  return { s, text: () => text };
}

async function cli(args: string[]) {
  const out = sink(), err = sink();
  const code = await main(args, { stdout: out.s, stderr: err.s });
  return { code, out: out.text(), err: err.text() };
}

/** An app folder as a user has it: main.js and a local module in ./modules. */
function app(version: string, host: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ota-app-"));
  mkdirSync(join(dir, "modules"));
  writeFileSync(join(dir, "modules", "greet.js"), `exports.hello = function (who) { return "hello " + who + " from ${version}"; };\n`);
  writeFileSync(
    join(dir, "main.js"),
    `var greet = require("greet");\n` +
      `print("boot ${version}");\n` +
      `require("ota").update({host: ${JSON.stringify(host)}, project: "bundled", files: [".bootcde"]}, function (e, r) {\n` +
      `  if (e) print("OTA " + e.code + " " + e.message);\n` +
      `  if (e || !r.updated) print(greet.hello("the bundle"));\n` +
      `});\n`,
  );
  return dir;
}

describe("release --bundle", function () {
  this.timeout(60000);
  let root: string, srv: OtaServer;
  before(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
  });
  after(() => srv.close());

  it("publishes main.js and the modules it requires as one .bootcde, without the ota module", async () => {
    const dir = app("v1", srv.url);
    const r = await cli(["release", "--root", root, "--project", "bundled", "--version", "v1", "--bundle", join(dir, "main.js")]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/bundled \S+main\.js with module\(s\) greet as "\.bootcde" \(\d+ bytes\)/);
    expect(r.out).to.match(/released bundled v1 \(prefix layout\): 1 file\(s\)/);
    const code = readFileSync(join(root, "bundled", "v1_.bootcde"), "latin1");
    expect(code).to.match(/^Modules\.addCached\("greet",function\(\)\{exports\.hello = function \(who\)/);
    expect(code).to.contain('print("boot v1");'); // the app itself, after its modules
    expect(code).to.contain('require("ota").update('); // served by Storage module "ota" on the board
    expect(code).not.to.match(/addCached\("(ota|Storage|http)"/); // on the board already / built into the firmware
    expect(code.length).to.be.below(2000); // not ~10 KB of updater per release
    expect(readFileSync(join(root, "bundled", "version"), "utf8")).to.equal("v1");
  });

  it("--with-ota bundles the updater too", async () => {
    const dir = app("v1", srv.url);
    const r = await cli(["release", "--root", root, "--project", "with-ota", "--version", "v1", "--bundle", join(dir, "main.js"), "--with-ota"]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/with module\(s\) ota, greet as "\.bootcde"/);
    const code = readFileSync(join(root, "with-ota", "v1_.bootcde"), "latin1");
    const otaMin = readFileSync(join(MODULES, "ota.min.js"), "latin1").trim();
    expect(code).to.match(/^Modules\.addCached\("ota",function\(\)\{/);
    expect(code).to.contain(`Modules.addCached("ota",function(){${otaMin}`);
    expect(code).to.contain('Modules.addCached("greet",function(){');
  });

  it("runs on a flashed board (Storage module ota), and updates itself to the next bundle", async () => {
    // `npm run flash` with the published v1 bundle as the app, exactly as a user flashes it
    const script = join(mkdtempSync(join(tmpdir(), "ota-flash-")), "flash.js");
    await flash({ board: "ESP32", app: join(root, "bundled", "v1_.bootcde"), reset: false, dryRun: script });
    const b = new Board({ board: "ESP32", http: { connectCheck: true } });
    b.powerOn();
    b.exec(readFileSync(script, "latin1"));
    expect(b.output).to.contain(DONE);
    const otaTok = readFileSync(join(MODULES, "ota.tok"));
    expect(b.flash.readFile("ota")!.equals(otaTok)).to.equal(true);
    b.output = "";
    b.powerOn();
    await b.run({ timeout: 10000 });
    // No version installed yet, so v1 installs itself from the server once, then runs.
    expect(b.errors).to.deep.equal([]);
    expect(b.output).to.contain("hello the bundle from v1");
    expect(installed(b).version).to.equal("v1");

    const dir = app("v2", srv.url);
    const r = await cli(["release", "--root", root, "--project", "bundled", "--version", "v2", "--bundle", join(dir, "main.js"), "--board", "ESP32"]);
    expect(r.code, r.err).to.equal(0);
    b.output = "";
    b.powerOn();
    await b.run({ timeout: 10000 });
    expect(b.output).to.contain("boot v1").and.contain("boot v2").and.contain("hello the bundle from v2");
    const s = installed(b);
    expect(s).to.deep.include({ version: "v2", previous: "v1", leftovers: [] });
    expect(Object.keys(s.files)).to.deep.equal([".bootcde"]);
    expect(b.flash.readFile(".bootcde")!.toString("latin1")).not.to.contain('addCached("ota"');
    expect(b.flash.readFile("ota")!.equals(otaTok)).to.equal(true); // the flashed updater did both updates
  });

  it("--as names the bundle, next to other files", async () => {
    const dir = app("v3", srv.url);
    writeFileSync(join(dir, "boot.js"), 'require("app");\n');
    const r = await cli([
      "release", "--root", root, "--project", "named", "--version", "v3",
      "--bundle", join(dir, "main.js"), "--as", "app", `.bootcde=${join(dir, "boot.js")}`,
    ]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('as "app"');
    expect(readFileSync(join(root, "named", "v3_app"), "latin1")).to.contain('Modules.addCached("greet"');
    expect(readFileSync(join(root, "named", "v3_.bootcde"), "latin1")).to.equal('require("app");\n');
  });

  it("fails without publishing anything when a required module is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ota-app-"));
    writeFileSync(join(dir, "main.js"), 'require("no-such-module").go();\n');
    const r = await cli(["release", "--root", root, "--project", "broken", "--version", "v1", "--bundle", join(dir, "main.js")]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/no-such-module not found/).and.match(/ENOMODULE/);
    expect(existsSync(join(root, "broken"))).to.equal(false);
  });

  it("refuses --as or --with-ota without --bundle, and a bundle name the board cannot hold", async () => {
    const r = await cli(["release", "--root", root, "--project", "x", "--version", "v1", "--as", "app", "f.js"]);
    expect(r.code).to.equal(2);
    expect(r.err).to.contain("--as, --board and --with-ota go with --bundle");
    const w = await cli(["release", "--root", root, "--project", "x", "--version", "v1", "--with-ota", "f.js"]);
    expect(w.code).to.equal(2);
    expect(w.err).to.contain("go with --bundle");
    const dir = app("v1", srv.url);
    const long = "a-storage-name-over-28-chars.js";
    const bad = await cli(["release", "--root", root, "--project", "x", "--version", "v1", "--bundle", join(dir, "main.js"), "--as", long]);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain(`file name "${long}"`);
    expect(existsSync(join(root, "x"))).to.equal(false);
  });
});
