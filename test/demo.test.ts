// `npm start`: the demo runs as a user would run it (a child process, no TTY, no board,
// no config) and the board's own output shows v1.0.0, then v1.0.1 after the update.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { ROOT, MODULES } from "../scripts/build.ts";
import { treeSnapshot } from "./lib/snapshot.ts";

describe("npm start (examples/demo/run.ts)", function () {
  this.timeout(120000);
  let r: ReturnType<typeof spawnSync>;
  let out: string;
  const snapshot = () => treeSnapshot(MODULES);
  let modulesBefore: string;
  before(() => {
    modulesBefore = snapshot();
    r = spawnSync("npx", ["tsx", "examples/demo/run.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "1" }, timeout: 110000 });
    out = String(r.stdout);
  });

  it("exits 0", () => {
    expect(r.status, `stdout:\n${out}\nstderr:\n${r.stderr}`).to.equal(0);
  });

  it("shows the board running v1.0.0, downloading, resetting, then running v1.0.1", () => {
    const lines = out.split("\n");
    const at = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l));
      expect(i, `no line matching ${re} in:\n${out}`).to.be.at.least(0);
      return i;
    };
    const boot0 = at(/^\s*board \| demo v1\.0\.0: boot$/);
    const check = at(/server\| .* GET \/demo\/version 200 check v=- board=ESP32/);
    const dl = at(/\[download\] main\s+206\/206 bytes 100%/);
    const installed = at(/^\s*board \| demo v1\.0\.0: installed v1\.0\.1, resetting into it$/);
    const boot1 = at(/^\s*board \| demo v1\.0\.1: boot$/);
    const hello = at(/^\s*board \| demo v1\.0\.1: hello from v1\.0\.1 \(installed version: v1\.0\.1\)$/);
    expect(boot0).to.be.below(check);
    expect(check).to.be.below(dl);
    expect(dl).to.be.below(installed);
    expect(installed).to.be.below(boot1);
    expect(boot1).to.be.below(hello);
    expect(out).not.to.match(/hello from v1\.0\.0/); // the old app never started: it updated first
  });

  it("reads the shipped device module and writes nothing into modules/", () => {
    expect(snapshot()).to.equal(modulesBefore);
  });

  it("says where every piece came from", () => {
    expect(out).to.match(/^1\. the device module: modules\/ota\.tok \(\d+ bytes, built from modules\/ota\.ts by npm run build, pretokenised\)$/m);
    expect(out).to.match(/examples\/demo\/v1\.0\.1\/main\.js -> demo\/v1\.0\.1_main/);
    expect(out).to.match(/serve \S+espruino-ota-demo-\S+ at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).to.match(/"ota"\s+\d+ bytes\s+<- modules\/ota\.tok/);
    expect(out).to.match(/"\.boot0"\s+\d+ bytes\s+<- modules\/boot\.tok/);
    expect(out).to.match(/"\.bootcde"\s+\d+ bytes\s+<- examples\/demo\/v1\.0\.0\/boot\.js/);
    expect(out).to.match(/"ota\.json"\s+\d+ bytes\s+<- \{"host":"http:\/\/127\.0\.0\.1:\d+","project":"demo"\}/);
    expect(out).not.to.contain("\x1b["); // no terminal control codes in a pipe
  });
});
