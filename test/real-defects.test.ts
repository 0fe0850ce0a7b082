// Issue 14, the updater's defects, on the REAL Espruino interpreter (harness/real-board.ts),
// through the public API: each run shows the defect fixed where the real interpreter behaves
// as the boards do. (Defect 1, errors after a release confirmed itself: test/real-update.test.ts.
// The emulator's side of all of them: test/ota-defects.test.ts.)
//   2. the copy the boot stage relies on: E.toUint8Array copies a Storage.read piece into RAM,
//      E.toString (the old copy) hands back the view itself;
//   3. a release carrying a new .boot0, installed while the running release is pending:
//      errors after the rewrite are printed as usual, never "Function code is null";
//   4. a guard that cannot write its record (Storage full) still reboots, and the next start
//      rolls back;
//   5. Storage.read strings are live views here (a write shows through them, an erase empties
//      them): what update() hands the app (progress names, results, errors) outlives the
//      updater's erases of its own files.
// Runs only with ESPRUINO_BIN (harness/gate.ts says so loudly otherwise, and fails under CI).
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeReal } from "../harness/gate.ts";
import { RealBoard, markOf, marksOf } from "../harness/real-board.ts";
import { publish, newRoot } from "../harness/device.ts";
import { startOtaServer, type OtaServer } from "../harness/ota-server.ts";
import { FLASHED, FILES, app, drive, STATUS, printed, boardWithV1, install } from "../harness/real-drive.ts";

const FUNCTION_GONE = "Function code is null";

describeReal("real interpreter: issue 14's updater defects", function () {
  this.timeout(90_000);
  let root: string, srv: OtaServer;
  const boards: RealBoard[] = [];
  before(async () => {
    root = newRoot();
    srv = await startOtaServer({ root });
  });
  after(async () => {
    await srv.close();
    for (const b of boards) b.dispose();
  });

  async function v1Board(project: string, opts: object): Promise<RealBoard> {
    const b = await boardWithV1(root, project, opts);
    boards.push(b);
    return b;
  }

  it("2: E.toUint8Array copies a piece of a Storage file into RAM; E.toString of it is still the file (the boot stage copies with the first)", async () => {
    const b = new RealBoard();
    boards.push(b);
    const codes = "function codes(x) { var a = [], i; for (i = 0; i < x.length; i++) a.push(typeof x == 'string' ? x.charCodeAt(i) : x[i]); return a; }";
    const r = await b.start(`${codes}
var S = require("Storage");
S.write("f", "ab", 0, 8); // "ab" and six erased bytes
var s = S.read("f", 2, 4), t = E.toString(s), u = E.toUint8Array(s);
S.write("f", "cd", 2); // into the erased bytes, in place
mark("after", {read: codes(s), toString: codes(t), toUint8Array: codes(u)});`, { fileMode: true });
    expect(markOf(r, "after")).to.deep.equal({
      read: [0x63, 0x64, 0xff, 0xff], // a view: the write shows through
      toString: [0x63, 0x64, 0xff, 0xff], // the same view (jswrap_espruino_toStringX returns its one argument)
      toUint8Array: [0xff, 0xff, 0xff, 0xff], // a copy made before the write
    });
  });

  it("3: after update() installs a new .boot0 while the running release is pending, an uncaught error is printed as usual", async () => {
    const opts = { host: srv.url, project: "d3", reset: "none", confirmAfter: 1500 };
    const b = await v1Board("d3", opts);
    const v2 = await install(b, root, "d3", "v2", app("v2"), opts, STATUS);
    expect(markOf(v2, "status")).to.deep.include({ version: "v2", pending: true });
    const boot = FLASHED[".boot0"].toString("latin1") + ';print("@@boot-stage v3");';
    await publish(root, "d3", "v3", { ...app("v3"), ".boot0": boot });
    // the guard's listener and its confirm timer (1.5 s) are alive while .boot0 is rewritten
    const s = await b.start(drive("update", opts, `setTimeout(function () { throw new Error("after the rewrite"); }, 100);`));
    expect(markOf(s, "update")).to.deep.include({ updated: true, version: "v3" });
    expect(s.end, printed(s)).to.equal("idle"); // no reboot: the error was the app's, after the trial ended
    expect(printed(s)).to.contain("Uncaught Error: after the rewrite");
    expect(printed(s)).not.to.contain(FUNCTION_GONE);
    const next = await b.start("");
    expect(next.marks.map((m) => m.tag)).to.deep.equal(["boot-stage", "boot"]);
    expect(markOf(next, "boot")).to.equal("v3");
  });

  it("4: a guard that cannot write its record (Storage full) still reboots, and the next start rolls back", async () => {
    const opts = { host: srv.url, project: "d4", files: FILES, reset: "none", confirmAfter: 0 }; // maxBoots: the default, 3
    const b = await v1Board("d4", opts);
    const v2 = await install(b, root, "d4", "v2", app("v2"), opts, STATUS);
    expect(markOf(v2, "status")).to.deep.include({ version: "v2", pending: true, boots: 1 });
    // Storage full but for what a rollback needs (a journal, v1's files, STATE): less than the
    // guard's record of this error
    const reserve = 1200;
    const s = await b.start(`var S = require("Storage");
S.compact();
S.write("app-data", "a", 0, S.getFree() - 32 - ${reserve});
mark("free", S.getStats());
setTimeout(function () { throw new Error(new Array(${2 * reserve}).join("x")); }, 10);`);
    expect(markOf(s, "free")).to.deep.include({ trashBytes: 0 });
    expect(s.end, printed(s).slice(-2000)).to.equal("reboot");
    const next = await b.start(STATUS);
    expect(markOf(next, "boot")).to.equal("v1");
    expect(markOf(next, "status")).to.deep.include({ version: "v1", previous: "v2", pending: false, lastError: "rolled back v2 to v1: uncaught (Storage full)" });
  });

  it("5: the progress names, result and error update() hands the app stay readable after it erases its files", async () => {
    const opts = { host: srv.url, project: "d5", files: FILES, reset: "none", confirmAfter: 0 }; // 0: no timer keeps a start running
    const b = await v1Board("d5", opts);
    const keep = `var seen = []; var o = ${JSON.stringify(opts)}; o.onProgress = function (f, d, n) { if (d == n) seen.push(f); };`;
    const later = `setTimeout(function () { mark("later", {seen: seen, r: r || null, e: e ? e.message : null}); }, 200);`;
    // a release that installs (update() erases its manifest at COMMIT)...
    await publish(root, "d5", "v2", app("v2"));
    const ok = await b.start(`${keep} require("ota").update(o, function (e, r) { ${later} });`);
    expect(markOf(ok, "later")).to.deep.equal({ seen: [".bootcde", "lib.js"], r: { updated: true, version: "v2", previous: "v1" }, e: null });
    expect(markOf(await b.start(""), "boot")).to.equal("v2");
    // ...and one that fails verification (update() erases the manifest and what it staged)
    await publish(root, "d5", "v3", app("v3"));
    const lib = join(root, "d5", "v3_lib.js");
    writeFileSync(lib, readFileSync(lib, "latin1").replace("v3", "v9"), "latin1"); // same size, other bytes
    const bad = await b.start(`${keep} require("ota").update(o, function (e, r) { ${later} });`);
    const seen = markOf(bad, "later");
    expect(seen.seen).to.deep.equal([".bootcde", "lib.js"]);
    expect(seen.e).to.match(/^ota: .*lib\.js/);
    expect(marksOf(await b.run(""), "boot")).to.deep.equal(["v2"]);
  });
});
