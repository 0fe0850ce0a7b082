// The RAM and Storage figures of the `ota` module, measured in the REAL Espruino
// interpreter (issue 9), as an app meets them: the module stored in Storage as `ota`
// (with the boot stages, as `npm run flash` writes them), loaded with require("ota"),
// releases published with the real publisher and served by the dev server (tools/serve.ts)
// on 127.0.0.1. RAM is `process.memory().usage`: JsVars in use after a garbage collection,
// counted as on ESP32/ESP8266 (function code stays in flash: Storage is read through flash
// strings on the Linux build too).
//
// Each figure counts what the updater adds, not what the measurement or the platform
// holds anyway (checked on the interpreter, see test/real-memory.test.ts):
//  - require("Storage") runs before the "before" sample: the first require() of a board
//    creates the module cache (2 JsVars), which any app that requires anything has;
//  - the app's own objects (the opts object, the sampler) exist before the baseline;
//  - before a peak's baseline, the board has made one HTTP request: Espruino's network
//    layer keeps about 80 JsVars after a board's first download (platform doc §13),
//    which every app with a network connection pays, updater or not.
// test/real-memory.test.ts and the bench (bench/run.ts) both use measureRealFigures().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type ServeHandle } from "../tools/serve.ts";
import { versionUrl, isStage, JOURNAL } from "../modules/formats.ts";
import { RealBoard, markOf, type StartResult } from "./real-board.ts";
import { flashedFiles, type DeviceCode } from "./real-ota.ts";
import { publish, payload, room, bareDownload } from "./device.ts";

/** The targets of issue 9: every figure must be at most its target. */
export const REAL_TARGETS = {
  residentJsVars: 60,
  updatePeakJsVars: 300,
  pendingJsVars: 15,
  secondRunJsVars: 0,
  storageBytes: 8192,
} as const;

/** The sizes of the one-file updates whose peaks are measured. */
export const PEAK_SIZES = [4096, 60 * 1024];

export interface PeakFigure {
  bytes: number; // size of the one file of the release
  updateJsVars: number; // peak above the baseline during update()
  bareJsVars: number; // the same for a bare streaming download of that file into Storage
  samples: number; // how many samples the update's peak was the largest of
}

export interface RealFigures {
  interpreter: string; // process.env.VERSION
  residentJsVars: number;
  peaks: PeakFigure[];
  pendingJsVars: number;
  secondRunJsVars: number;
  storageBytes: number;
  storageFiles: Record<string, number>; // Storage name -> bytes it takes (header + padded data)
}

/** How each figure is measured, for the bench's output and its JSON. */
export const REAL_DEFINITIONS = {
  residentJsVars: 'process.memory().usage after require("ota") minus before it, on a board whose module cache exists (require("Storage") first)',
  updatePeakJsVars: "largest process.memory().usage sampled in opts.onProgress (after each stored chunk) and every 5 ms, minus the usage just before update() (reset: \"none\"), on a board with the module loaded, its network layer warm (one HTTP request made) and an earlier release installed; bare: the same for http.get + Storage.write per chunk of the same file",
  pendingJsVars: "process.memory().usage at app start (after the boot code) on a board whose newest release is pending (installed by update(), then a restart), minus the same on that board once confirm() ran and it restarted",
  secondRunJsVars: "process.memory().usage after a second update() (reset: \"none\") has called back, minus after the first; both download the release (the first run's journal is erased between them, so that the second does not answer from it)",
  storageBytes: "bytes of every Storage file the updater keeps (its code and records), on a board that installed and confirmed a release: 32-byte header + data padded to 4 per file; the release's own files and its kept copy sets are not counted",
} as const;

/** Each figure against its target: the rows a report prints, and the misses. */
export function realRows(f: RealFigures): { figure: string; measured: number; target: number; met: boolean }[] {
  const t = REAL_TARGETS;
  return [
    { figure: 'JsVars held after require("ota")', measured: f.residentJsVars, target: t.residentJsVars },
    ...f.peaks.map((p) => ({ figure: `peak JsVars during an update of one ${p.bytes / 1024} KB file (bare download: ${p.bareJsVars})`, measured: p.updateJsVars, target: t.updatePeakJsVars })),
    { figure: "JsVars a pending release holds once the app runs", measured: f.pendingJsVars, target: t.pendingJsVars },
    { figure: 'JsVars after an update (reset "none"), second run against first', measured: f.secondRunJsVars, target: t.secondRunJsVars },
    { figure: `bytes the updater keeps in Storage (${Object.keys(f.storageFiles).join(", ")})`, measured: f.storageBytes, target: t.storageBytes },
  ].map((r) => ({ ...r, met: r.measured <= r.target }));
}

interface Bench {
  code: DeviceCode;
  srv: ServeHandle;
  root: string;
  boards: RealBoard[];
  projects: number;
}

function fail(what: string, r: StartResult | StartResult[]): never {
  const starts = Array.isArray(r) ? r : [r];
  throw new Error(`${what}; the board printed:\n${starts.map((s) => s.output.slice(-2500)).join("\n--- next start ---\n")}`);
}

/** A fresh board with the updater flashed, which has installed release v0 (one small file "app"). */
async function boardWithV0(b: Bench, project: string): Promise<RealBoard> {
  await publish(b.root, project, "v0", { app: payload(64) });
  const board = new RealBoard();
  b.boards.push(board);
  await board.store(flashedFiles(b.code));
  const o = { host: b.srv.url, project, reset: "hard" };
  const r1 = await board.start(`require("ota").update(${JSON.stringify(o)}, function (e, r) { mark("v0", e ? e.code + " " + e.message : r); });`);
  if (r1.end != "reboot") fail(`installing v0 did not reboot (${r1.end})`, r1);
  const r2 = await board.start(`mark("version", require("ota").version());`);
  if (markOf(r2, "version") != "v0") fail("v0 is not installed after the reboot", [r1, r2]);
  return board;
}

function clone(b: Bench, board: RealBoard): RealBoard {
  const c = board.clone();
  b.boards.push(c);
  return c;
}

// Samples process.memory().usage; defined before any baseline, so it counts in none.
const SAMPLER = `var peak = 0, base = 0, samples = 0, iv = 0;
function sample() { var u = process.memory().usage; if (u > peak) peak = u; samples++; }`;

// One HTTP request first (the network layer's retained JsVars), then `go` on a fresh tick.
function warmThen(host: string, project: string, go: string): string {
  return `require("http").get(${JSON.stringify(versionUrl(host, project))}, function (res) {
  res.on("data", function () {});
  res.on("close", function () { setTimeout(function () {
    iv = setInterval(sample, 5);
    base = process.memory().usage; peak = base;
    ${go}
  }, 10); });
});`;
}

async function peakOf(b: Bench, size: number): Promise<PeakFigure> {
  const project = `peak${b.projects++}`;
  const v0 = await boardWithV0(b, project);
  const file = payload(size);
  await publish(b.root, project, "v1", { app: file });
  const o = { host: b.srv.url, project, reset: "none" };
  const done = `function done(v) { sample(); clearInterval(iv); mark("peak", {err: v.err || null, peak: peak - base, samples: samples}); }`;

  const upd = await clone(b, v0).start(
    `var ota = require("ota");\n${SAMPLER}\n${done}\nvar o = ${JSON.stringify(o)};\no.onProgress = sample;\n` +
      warmThen(b.srv.url, project, `ota.update(o, function (e, r) { done(e ? {err: e.code + " " + e.message} : r.updated ? {} : {err: "not updated"}); });`),
  );
  const u = markOf(upd, "peak");
  if (u.err) fail(`the update of one ${size}-byte file failed: ${u.err}`, upd);

  const bare = await clone(b, v0).start(
    `${SAMPLER}\n${done}\n` + warmThen(b.srv.url, project, `(function () { ${bareDownload({ host: b.srv.url, project, files: ["app"] }, "v1", "sample();")} })();`),
  );
  const w = markOf(bare, "peak");
  if (w.err) fail(`the bare download of one ${size}-byte file failed: ${w.err}`, bare);
  return { bytes: size, updateJsVars: u.peak, bareJsVars: w.peak, samples: u.samples };
}

/**
 * JsVars that require(name) holds on a fresh board with `files` in Storage: usage after
 * minus before, with the module cache already created by require("Storage").
 */
export async function residentCost(files: Record<string, string | Buffer>, name: string): Promise<number> {
  const board = new RealBoard();
  try {
    await board.store(files);
    const r = await board.start(`var before = 0, after = 0;
require("Storage");
before = process.memory().usage;
require(${JSON.stringify(name)});
after = process.memory().usage;
mark("resident", after - before);`);
    return markOf(r, "resident");
  } finally {
    board.dispose();
  }
}

async function secondRunOf(b: Bench, v0: RealBoard, project: string): Promise<number> {
  // Flat: both samples are taken from the same function at the same depth, into slots that
  // exist before the first one, so the measurement itself adds nothing between them.
  const o = { host: b.srv.url, project, reset: "none" };
  const r = await clone(b, v0).start(`var ota = require("ota"), S = require("Storage"), o = ${JSON.stringify(o)};
var usage = [0, 0], results = [0, 0], k = 0;
function after(e, r) { results[k] = e ? -1 : r.updated ? 1 : 0; setTimeout(measure, 50); }
function measure() {
  usage[k] = process.memory().usage;
  if (k++ == 0) { S.erase(${JSON.stringify(JOURNAL)}); ota.update(o, after); }
  else mark("second", {usage: usage, results: results});
}
ota.update(o, after);`);
  const m = markOf(r, "second");
  if (m.results[0] != 1 || m.results[1] != 1) fail(`both runs must install (1), got ${JSON.stringify(m.results)}`, r);
  return m.usage[1] - m.usage[0];
}

/** Pending release cost, and the updater's Storage bytes on the same board once confirmed. */
async function pendingAndStorage(b: Bench, v0: RealBoard, project: string): Promise<{ pending: number; storage: Record<string, number> }> {
  const board = clone(b, v0);
  const o = { host: b.srv.url, project, reset: "hard" };
  const install = await board.start(`require("ota").update(${JSON.stringify(o)}, function (e, r) { mark("v1", e ? e.code + " " + e.message : r); });`);
  if (install.end != "reboot") fail(`installing v1 did not reboot (${install.end})`, install);
  // At app start: the first thing the -e code does (it runs after all boot code).
  const atStart = `mark("usage", process.memory().usage); var S = require("Storage"), files = {};
S.list().forEach(function (f) { files[f] = S.read(f).length; }); mark("files", files);`;
  const stopAtFiles = { stopWhen: (m: { tag: string }) => m.tag == "files" }; // a pending release's timer keeps the process alive
  const pendingStart = await board.start(atStart, stopAtFiles);
  const confirm = await board.start(`mark("confirmed", require("ota").confirm());`, { stopWhen: (m) => m.tag == "confirmed" });
  if (markOf(confirm, "confirmed") !== true) fail("v1 was not pending after its install", [install, pendingStart, confirm]);
  const settled = await board.start(atStart, stopAtFiles);
  const storage: Record<string, number> = {};
  for (const [name, len] of Object.entries(markOf(settled, "files") as Record<string, number>)) {
    if (name != "app" && !isStage(name)) storage[name] = room(len);
  }
  return { pending: markOf(pendingStart, "usage") - markOf(settled, "usage"), storage };
}

/** Measures every figure on fresh boards in temporary directories. */
export async function measureRealFigures(code: DeviceCode, log: (line: string) => void = () => {}): Promise<RealFigures> {
  const root = mkdtempSync(join(tmpdir(), "ota-real-root-"));
  const b: Bench = { code, root, srv: await serve({ root, log: () => {} }), boards: [], projects: 0 };
  try {
    const probe = new RealBoard();
    b.boards.push(probe);
    const interpreter = markOf(await probe.start(`mark("version", process.env.VERSION);`), "version");
    const residentJsVars = await residentCost(flashedFiles(code), "ota");
    log(`real: resident ${residentJsVars}`);
    const peaks: PeakFigure[] = [];
    for (const size of PEAK_SIZES) {
      peaks.push(await peakOf(b, size));
      log(`real: peak ${size} B ${JSON.stringify(peaks[peaks.length - 1])}`);
    }
    const project = "flows";
    const v0 = await boardWithV0(b, project);
    await publish(root, project, "v1", { app: payload(4096) });
    const secondRunJsVars = await secondRunOf(b, v0, project);
    const { pending, storage } = await pendingAndStorage(b, v0, project);
    log(`real: second run ${secondRunJsVars}, pending ${pending}`);
    return {
      interpreter, residentJsVars, peaks, pendingJsVars: pending, secondRunJsVars,
      storageBytes: Object.values(storage).reduce((a, n) => a + n, 0), storageFiles: storage,
    };
  } finally {
    await b.srv.close();
    for (const board of b.boards) board.dispose();
    rmSync(root, { recursive: true, force: true });
  }
}
