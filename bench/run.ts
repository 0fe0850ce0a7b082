// npm run bench [-- --smoke]: footprint, RAM and Storage in the real Espruino interpreter
// (with ESPRUINO_BIN), and, in the board emulator, the largest RAM chunk, flash wear,
// speed, no-op cost and fleet load of espruino-ota, side by side with a port of
// micropython_ota. Prints a table and writes the same figures to bench/results/latest.json.
// Exit 1 if a hard check fails (a target of the real-interpreter figures, memory that
// grows with the work, the size budget).
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { buildModules, ROOT } from "../scripts/build.ts";
import { serve } from "../tools/serve.ts";
import type { BoardName } from "../emulator/board.ts";
import { loadProfile } from "../emulator/board.ts";
import { MemProbe, runDevice, board, OTA, MPOTA, type Updater, type UpdOpts } from "./updaters.ts";
import { payload, publish, room, bareDownload } from "../harness/device.ts";
import { flashedFiles } from "../harness/real-ota.ts";
import { ESPRUINO_BIN, ENABLE_HINT } from "../harness/real-board.ts";
import { measureRealFigures, realRows, REAL_DEFINITIONS, REAL_TARGETS, type RealFigures } from "../harness/real-figures.ts";
import { nginxAvailable, startNginx } from "../harness/nginx.ts";
import { fleet, type FleetResult } from "./fleet.ts";
import { fleetS3 } from "./fleet-s3.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const SMOKE = process.argv.includes("--smoke");
const T0 = performance.now();
const USER = "fleet", PASS = "s3cret-bench";
const PROJECT = "bench";
const failures: string[] = [];
const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s] ${s}\n`);

const mods = await buildModules();
const MPOTA_SRC = readFileSync(join(ROOT, "bench", "baselines", "micropython-ota.js"), "utf8");

// ------------------------------------------------------------------ 1. footprint
// device files are one char per byte (the .tok files hold bytes above 127)
const gz = (s: string) => gzipSync(Buffer.from(s, "latin1"), { level: 9 }).length;
const budget = JSON.parse(readFileSync(join(ROOT, "bench", "budget.json"), "utf8"));
const footprint = {
  otaMin: { raw: mods.otaMin.length, gzip: gz(mods.otaMin), budget: budget["ota.min.js"] },
  otaTok: { raw: mods.otaTok.length, gzip: gz(mods.otaTok) },
  boot: { raw: mods.boot.length, gzip: gz(mods.boot), budget: budget["boot"] },
  bootTok: { raw: mods.bootTok.length, gzip: gz(mods.bootTok) },
  mpotaPort: { raw: Buffer.byteLength(MPOTA_SRC), gzip: gz(MPOTA_SRC), note: "unminified port, for scale only" },
};
if (footprint.otaMin.raw > budget["ota.min.js"]) failures.push(`ota.min.js ${footprint.otaMin.raw} B exceeds budget ${budget["ota.min.js"]} B`);
if (footprint.boot.raw > budget["boot"]) failures.push(`boot stage ${footprint.boot.raw} B exceeds budget ${budget["boot"]} B`);
log("footprint done");

// ------------------------------------------------------------------ 2. real interpreter
// RAM (JsVars) and Storage of the module as an app meets them, in the real interpreter:
// harness/real-figures.ts says how each is measured. Never an estimate in their place.
let real: RealFigures | string = `not measured: ESPRUINO_BIN is not set (${ENABLE_HINT.replace(" npm test", " npm run bench")})`;
if (ESPRUINO_BIN) {
  real = await measureRealFigures(mods, log);
  for (const r of realRows(real)) if (!r.met) failures.push(`real interpreter: ${r.figure}: ${r.measured}, target at most ${r.target}`);
}
log("real interpreter done");

// ------------------------------------------------------------------ servers
const root = mkdtempSync(join(tmpdir(), "ota-bench-root-"));
const dev = await serve({ root, user: USER, password: PASS, log: () => {} });
const hasNginx = nginxAvailable();
const ngx = hasNginx ? await startNginx({ root, user: USER, password: PASS }) : null;
let projectN = 0;
const newProject = () => `${PROJECT}${projectN++}`;

// espruino-ota's files as `npm run flash` stores them
const stored = (u: Updater): Record<string, string | Buffer> => (u === OTA ? flashedFiles(mods) : { mpota: MPOTA_SRC });

async function updateOnce(u: Updater, b: ReturnType<typeof board>, o: UpdOpts) {
  let r = await runDevice(b, u.update(o));
  // espruino-ota leaves compaction to the boot stage (running code must not move), which
  // compacts at the next start once no release is on trial: the app confirms its release,
  // as a real one does once it works, the board starts again, and the update then fits.
  if (u === OTA && r?.err && /^ENOSPC/.test(r.err)) {
    b.exec('require("ota").confirm();');
    b.powerOn();
    await b.run({ timeout: 60_000, wallTimeout: 30_000, maxReboots: 2 });
    r = await runDevice(b, u.update(o));
  }
  if (!r || r.err || r.ok !== true) throw new Error(`${u.name} on ${b.name}: ${JSON.stringify(r)}\n${b.output.slice(-1500)}`);
}

function verify(b: ReturnType<typeof board>, files: Record<string, Buffer>) {
  for (const [n, d] of Object.entries(files)) {
    const got = b.flash.readFile(n);
    if (!got || !got.equals(d)) throw new Error(`${b.name}: ${n} not installed whole`);
  }
}

// ------------------------------------------------------------------ 3. largest RAM chunk (emulator)
// The largest file that fits: the board holds the updater (+ boot stages), a tiny prior release
// (and its kept copy set), and for espruino-ota the staged copy and the installed copy, with the
// module's own rule free >= room(200+32*files) + room(200) + 2*room(size) (ota.ts); a little
// slack for .otav. The ENOSPC step-down below has the last word.
function largestFile(name: BoardName): number {
  const prof = loadProfile(name);
  const used = room(mods.otaTok.length) + room(mods.bootTok.length) + room(64) + room(40) + room(120);
  const free = prof.ota.storageBytes - used - room(164) - room(200) - 128;
  return Math.floor(free / 2 - 32) & ~255;
}

interface MemRow { board: string; updater: string; size: number; httpChunk: number; maxStorageWrite: number; maxHttpChunk: number; largestRamChunk: number; wear: number }
async function memRun(u: Updater, name: BoardName, size: number): Promise<MemRow> {
  const project = newProject();
  const o: UpdOpts = { host: dev.url, project, files: ["app"], user: USER, password: PASS };
  await publish(root, project, "v0", { app: payload(64) });
  const b = board(name, stored(u));
  b.powerOn();
  await updateOnce(u, b, o);
  const big = { app: payload(size) };
  await publish(root, project, "v1", big);
  const probe = new MemProbe();
  b.probe = probe;
  b.flash.resetCounters();
  await updateOnce(u, b, o);
  b.probe = null;
  verify(b, big);
  return {
    board: name, updater: u.name, size, httpChunk: b.profile.ota.httpChunk, maxStorageWrite: b.flash.maxWriteBytes,
    maxHttpChunk: probe.httpMax, largestRamChunk: probe.peak, wear: +(b.flash.bytesWritten / size).toFixed(2),
  };
}

const memory: MemRow[] = [];
const BOARDS: BoardName[] = ["ESP32", "ESP8266_4MB", "ESP8266_BOARD"];
for (const name of BOARDS) {
  // The largest size espruino-ota accepts (its ENOSPC check decides), within 2%: start from
  // the estimate, step down.
  let big = largestFile(name), otaBig: MemRow | undefined, lastErr = "";
  for (let tries = 0; tries < 20 && !otaBig; tries++) {
    try { otaBig = await memRun(OTA, name, big); } catch (e) {
      lastErr = String((e as Error).message).split("\n")[0];
      if (!/ENOSPC/.test(lastErr)) throw e;
      big = Math.floor(big * 0.98) & ~255;
    }
  }
  if (!otaBig) throw new Error(`no large file fits on ${name}: ${lastErr}`);
  // 4 KB, unless the board cannot hold a 4 KB release next to the updater (ESP8266_BOARD): then 1 KB.
  const small = big >= 6144 ? 4096 : 1024;
  const rows = [await memRun(OTA, name, small), otaBig];
  memory.push(...rows, await memRun(MPOTA, name, small), await memRun(MPOTA, name, big));
  const [a, c] = rows;
  const ok = a.maxStorageWrite == c.maxStorageWrite && a.largestRamChunk == c.largestRamChunk && c.largestRamChunk <= c.httpChunk && c.maxStorageWrite <= c.httpChunk;
  if (!ok) failures.push(`memory grows with the work on ${name}: ${JSON.stringify(rows)}`);
}
log("memory done");

// ------------------------------------------------------------------ 4. flash wear
// espruino-ota with keep: true (default: the staged copies of the current release, and
// those of the previous one while it is the rollback target, stay in Storage as copy sets
// .ota_a<i> / .ota_b<i>) and keep: false (copies erased after the install).
// copySetBytes: Storage the copy sets hold after the last update (headers + padded data).
interface WearRow { updater: string; variant: string; board: string; payload: number; updates: number; writtenPerPayload: number; pageErasesPerUpdate: number; deletesPerUpdate: number; compactionsPerUpdate: number; copySets: number; copySetBytes: number; copySetBytesPerPayload: number }
async function wearRun(u: Updater, K: number, keep?: boolean): Promise<WearRow> {
  const name: BoardName = "ESP8266_4MB";
  const project = newProject();
  const names = ["lib", "app"], sizes = [8 * 1024, 24 * 1024];
  const o: UpdOpts = { host: dev.url, project, files: names, user: USER, password: PASS, keep };
  const rel = () => Object.fromEntries(names.map((n, i) => [n, payload(sizes[i])]));
  await publish(root, project, "v0", rel());
  const b = board(name, stored(u));
  b.powerOn();
  await updateOnce(u, b, o);
  b.flash.resetCounters();
  for (let k = 1; k <= K; k++) {
    const r = rel();
    await publish(root, project, `v${k}`, r);
    await updateOnce(u, b, o);
    verify(b, r);
  }
  const pay = sizes.reduce((a, c) => a + c, 0);
  const f = b.flash;
  const copies = f.files().filter((x) => /^\.ota_[ab]\d+$/.test(x.name));
  const copySetBytes = copies.reduce((n, x) => n + room(x.data.length), 0);
  return {
    updater: u.name, variant: u === OTA ? (keep === false ? "keep: false" : "keep: true (default)") : "-", board: name, payload: pay, updates: K,
    writtenPerPayload: +(f.bytesWritten / (pay * K)).toFixed(2), pageErasesPerUpdate: +(f.erases / K).toFixed(1),
    deletesPerUpdate: +(f.deletes / K).toFixed(1), compactionsPerUpdate: +(f.compactions / K).toFixed(2),
    copySets: new Set(copies.map((x) => x.name.charAt(5))).size, copySetBytes, copySetBytesPerPayload: +(copySetBytes / pay).toFixed(2),
  };
}
const K = SMOKE ? 2 : 6;
const wear: WearRow[] = [await wearRun(OTA, K, true), await wearRun(OTA, K, false), await wearRun(MPOTA, K)];
{
  const [kept, bare] = wear;
  if (bare.copySetBytes != 0) failures.push(`keep: false left ${bare.copySetBytes} B of copy sets in Storage`);
  if (!(kept.copySetBytes > 0)) failures.push("keep: true kept no copy set");
}
log("wear done");

// ------------------------------------------------------------------ 5. speed
interface SpeedRow { case: string; files: number; bytes: number; bareMs: number; otaMs: number; otaRatio: number; otaStageMs: number; otaStageRatio: number; otaInstallMs: number; mpotaMs: number; mpotaRatio: number; repeats: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let lastInstallMs = 0;
async function timeOne(kind: "bare" | "ota" | "otaStage" | "mpota", o: UpdOpts, version: string, files: Record<string, Buffer>): Promise<number> {
  const b = board("ESP32", kind == "ota" || kind == "otaStage" ? stored(OTA) : kind == "mpota" ? stored(MPOTA) : {});
  b.powerOn();
  // otaStage: reset "none": download, stage, verify and commit only (no reset, no install
  // copy); then, timed apart (lastInstallMs), the reset and the boot stage's install copy.
  const code = kind == "bare" ? bareDownload(o, version) : kind == "otaStage" ? OTA.update(o).replace('"reset":"hard"', '"reset":"none"') : (kind == "ota" ? OTA : MPOTA).update(o);
  if (kind == "otaStage") {
    let t = performance.now();
    const r = await runDevice(b, code, 120_000);
    const ms = performance.now() - t;
    if (!r || r.ok !== true) throw new Error(`${kind}: ${JSON.stringify(r)}`);
    t = performance.now();
    b.exec("E.reboot()");
    const rr = await b.run({ timeout: 60_000, wallTimeout: 60_000, maxReboots: 2 });
    lastInstallMs = performance.now() - t;
    if (rr != "idle") throw new Error(`otaStage install: ${rr}`);
    verify(b, files);
    return ms;
  }
  const t = performance.now();
  const r = await runDevice(b, code, 120_000);
  const ms = performance.now() - t;
  if (!r || r.ok !== true) throw new Error(`${kind}: ${JSON.stringify(r)}`);
  verify(b, files);
  return ms;
}
const speedCases = SMOKE
  ? [{ n: 1, size: 4096 }, { n: 10, size: 4096 }, { n: 50, size: 4096 }]
  : [{ n: 1, size: 4096 }, { n: 10, size: 4096 }, { n: 50, size: 4096 }, { n: 1, size: 256 * 1024 }];
const REPEATS = SMOKE ? 1 : 5;
const speed: SpeedRow[] = [];
const speedErrors: { case: string; error: string }[] = [];
for (const c of speedCases) {
  const project = newProject();
  const names = Array.from({ length: c.n }, (_, i) => `f${i}`);
  const files = Object.fromEntries(names.map((n) => [n, payload(c.size)]));
  await publish(root, project, "v1", files);
  const o: UpdOpts = { host: dev.url, project, files: names, user: USER, password: PASS };
  const t: Record<string, number[]> = { bare: [], ota: [], otaStage: [], otaInstall: [], mpota: [] };
  const kinds = ["bare", "ota", "otaStage", "mpota"] as const;
  // Every release is timed as published, with its manifest (up to 16 KB: 50 files fit).
  // A release espruino-ota refuses is a failure, not a row timed some other way.
  try { await timeOne("ota", o, "v1", files); } catch (e) {
    const why = String((e as Error).message).split("\n")[0];
    speedErrors.push({ case: `${c.n} × ${c.size / 1024} KB`, error: why });
    failures.push(`speed ${c.n} × ${c.size / 1024} KB: espruino-ota refused the release as published (with its manifest): ${why}`);
    continue;
  }
  if (c === speedCases[0]) for (const k of kinds) await timeOne(k, o, "v1", files); // warm-up (JIT), not timed
  // rotate the order per repeat, so no variant always runs first
  for (let r = 0; r < REPEATS; r++) for (let j = 0; j < kinds.length; j++) {
    const k = kinds[(j + r) % kinds.length];
    t[k].push(await timeOne(k, o, "v1", files));
    if (k == "otaStage") t.otaInstall.push(lastInstallMs);
  }
  const bare = median(t.bare), ota = median(t.ota), mp = median(t.mpota);
  speed.push({ case: `${c.n} × ${c.size / 1024} KB`, files: c.n, bytes: c.n * c.size, bareMs: Math.round(bare), otaMs: Math.round(ota), otaRatio: +(ota / bare).toFixed(2), otaStageMs: Math.round(median(t.otaStage)), otaStageRatio: +(median(t.otaStage) / bare).toFixed(2), otaInstallMs: Math.round(median(t.otaInstall)), mpotaMs: Math.round(mp), mpotaRatio: +(mp / bare).toFixed(2), repeats: REPEATS });
  log(`speed ${c.n}×${c.size}: bare ${bare.toFixed(0)} ms, ota ${ota.toFixed(0)} ms, mpota ${mp.toFixed(0)} ms`);
}
const large = speed.find((s) => s.bytes == 256 * 1024);
const speedTarget = { largeFileMaxRatio: 1.2, met: large ? large.otaRatio <= 1.2 : "n/a (smoke: no 256 KB case)", stageOnlyMet: large ? large.otaStageRatio <= 1.2 : "n/a" };

// ------------------------------------------------------------------ 6. no-op cost
interface NoopRow { server: string; updater: string; call: string; requests: number; bytesOut: number; bytesIn: number; total: number; targetMet: boolean | string }
async function noop(u: Updater, host: string, server: string): Promise<NoopRow[]> {
  const project = newProject();
  const o: UpdOpts = { host, project, files: ["app"], user: USER, password: PASS };
  await publish(root, project, "v1", { app: payload(1024) });
  const b = board("ESP32", stored(u));
  b.powerOn();
  await updateOnce(u, b, o);
  const rows: NoopRow[] = [];
  for (const [call, code] of [["check", u.check(o)], ["update", u.update(o)]] as const) {
    const s0 = { ...b.httpStats };
    const r = await runDevice(b, code);
    if (!r || r.err || r.ok !== false) throw new Error(`no-op ${u.name} ${call}: ${JSON.stringify(r)}`);
    const d = { requests: b.httpStats.requests - s0.requests, bytesOut: b.httpStats.bytesOut - s0.bytesOut, bytesIn: b.httpStats.bytesIn - s0.bytesIn };
    const total = d.bytesOut + d.bytesIn;
    rows.push({ server, updater: u.name, call, ...d, total, targetMet: u === OTA ? d.requests == 1 && total < 400 : "-" });
  }
  return rows;
}
const noopRows: NoopRow[] = [];
for (const [srv, host] of [["dev server", dev.url], ...(ngx ? [["nginx", ngx.url]] : [])] as [string, string][]) {
  noopRows.push(...(await noop(OTA, host, srv)), ...(await noop(MPOTA, host, srv)));
}
log("no-op done");

// ------------------------------------------------------------------ 7. fleet
let fleetRows: (FleetResult & { label: string })[] | string = "not measured: nginx is not installed (apt-get install nginx, or run .ci/run)";
if (ngx) {
  const project = newProject();
  await publish(root, project, "v1", { app: payload(1024) });
  const base = { url: ngx.url, project, user: USER, password: PASS, concurrency: 40 };
  fleetRows = [];
  const plan = SMOKE
    ? [{ label: "200 boards in 2 s", n: 200, windowMs: 2000 }, { label: "burst 300 (capacity)", n: 300, windowMs: 0, burst: true }]
    : [{ label: "1,000 boards in 10 s", n: 1000, windowMs: 10_000 }, { label: "10,000 boards in 20 s", n: 10_000, windowMs: 20_000 }, { label: "burst 5,000 (capacity)", n: 5000, windowMs: 0, burst: true }];
  for (const p of plan) {
    fleetRows.push({ label: p.label, ...(await fleet({ ...base, ...p })) });
    log(`fleet ${p.label} done`);
  }
}

const fleetS3Result = await fleetS3(); // 8. the fleet figure on object storage (publish's)
await dev.close();
await ngx?.stop();
rmSync(root, { recursive: true, force: true });

// ------------------------------------------------------------------ report
const machine = { nproc: cpus().length, cpu: (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
const results = {
  smoke: SMOKE, machine, elapsedS: +((performance.now() - T0) / 1000).toFixed(1),
  footprint, real, realTargets: REAL_TARGETS, memory, wear, speed, speedErrors, speedTarget, noop: noopRows, fleet: fleetRows, fleetS3: fleetS3Result,
  failures,
  definitions: {
    real: REAL_DEFINITIONS,
    largestRamChunk: "emulator, in BYTES (not JsVars): the largest RAM string crossing the device API at once: a body chunk http hands to a 'data' listener, or the data of a Storage.write/writeJSON that is not a string Storage.read just returned (memory-mapped, zero-copy on ESP32/ESP8266) nor a module constant. The emulator has no JS heap to count: JsVars are measured only in the real interpreter (real)",
    maxStorageWrite: "largest single flash data write (Flash.maxWriteBytes), whole update incl. the boot-stage install",
    wear: "flash counters from the first byte of the update to the installed release after the reset, incl. journal, state and install copy; keep: true (default) keeps the staged copies of the current release (and the previous one's while it is the rollback target) as copy sets .ota_a<i>/.ota_b<i>, keep: false erases them; copySetBytes: Storage those copy sets hold after the last update (32-byte header + data padded to 4 per file)",
    speedBreakdown: "otaStageMs: update() with reset 'none' (check, manifest, download into staging, verify digests, commit the journal); otaInstallMs: then E.reboot() until idle (the boot stage copies every staged file over its live name: every byte is written twice in all)",
    speed: "wall time from the call to the installed release (reset and boot-stage install included), ESP32 profile, dev server on loopback, median; ratio against a bare require('http').get + Storage.write download of the same files in the same emulator",
    noop: "board.httpStats for one call when the server's version is installed, Basic auth on",
    fleet: "Node http, agent:false (no keep-alive), Connection: close, Basic auth + X-Ota-V/B/F/Id, concurrency-limited; bytes are HTTP bytes (socket payload), no TCP/IP overhead",
  },
};
const outDir = join(ROOT, "bench", "results");
mkdirSync(outDir, { recursive: true });
const out = join(outDir, "latest.json");
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");

function table(title: string, rows: Record<string, unknown>[]) {
  console.log(`\n${title}`);
  if (!rows.length) return;
  const cols = Object.keys(rows[0]);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  console.log(cols.map((c, i) => c.padEnd(w[i])).join("  "));
  for (const r of rows) console.log(cols.map((c, i) => String(r[c]).padEnd(w[i])).join("  "));
}
console.log(`espruino-ota bench${SMOKE ? " (smoke)" : ""}: ${machine.nproc} × ${machine.cpu}, Node ${machine.node}, ${machine.date}`);
table("1. Footprint (bytes)", [
  { file: "ota.min.js", raw: footprint.otaMin.raw, gzip: footprint.otaMin.gzip, budget: footprint.otaMin.budget },
  { file: "ota.tok (stored as ota)", raw: footprint.otaTok.raw, gzip: footprint.otaTok.gzip, budget: "-" },
  { file: "boot.min.js", raw: footprint.boot.raw, gzip: footprint.boot.gzip, budget: footprint.boot.budget },
  { file: "boot.tok (stored as .boot0)", raw: footprint.bootTok.raw, gzip: footprint.bootTok.gzip, budget: "-" },
  { file: "micropython_ota port (unminified)", raw: footprint.mpotaPort.raw, gzip: footprint.mpotaPort.gzip, budget: "-" },
]);
if (typeof real == "string") console.log(`\n2. RAM (JsVars) and Storage in the real Espruino interpreter: ${real}`);
else {
  table(`2. RAM (JsVars) and Storage in the real Espruino interpreter ${real.interpreter} (ESPRUINO_BIN)`, realRows(real).map((r) => ({ ...r, met: r.met ? "yes" : "MISSED" })));
  console.log(`   updater's Storage files (bytes, header included): ${JSON.stringify(real.storageFiles)}`);
  console.log("   what each figure counts: the updater's cost only; the module cache, the app's own objects and the network layer's");
  console.log("   retained JsVars (about 80 after a board's first download) are in every baseline. Definitions: bench/results/latest.json");
}
table("3. Largest RAM chunk in the emulator (BYTES, not JsVars: the biggest http chunk or Storage.write buffer at once)", memory as any);
table("4. Flash wear per update", wear as any);
table(`5. Speed (ESP32, median of ${REPEATS}; ratio vs bare streaming download)`, speed as any);
for (const e of speedErrors) console.log(`   ${e.case}: espruino-ota refused the release as published: ${e.error}`);
console.log(`   target: 256 KB update ≤ 1.2× bare: ${speedTarget.met} (whole update incl. reset + install); download+stage+verify+commit only: ${speedTarget.stageOnlyMet}`);
console.log(`   otaStageMs: check + manifest + download/stage + verify + commit (reset "none"); otaInstallMs: the reset and the boot stage's install copy, timed apart`);
table("6. No-op cost (one call, nothing changed)", noopRows as any);
if (typeof fleetRows == "string") console.log(`\n7. Fleet load: ${fleetRows}`);
else table("7. Fleet load on nginx (loopback)", fleetRows as any);
table(`8. Fleet on object storage (measured: one no-op check ${JSON.stringify(fleetS3Result.measured.noopCheck)}; computed per day and month)`, fleetS3Result.rows as any);
console.log(`   prices assumed: ${fleetS3Result.prices.source}\n   ${fleetS3Result.cdnNote}`);
console.log(`\nwrote ${out} (${results.elapsedS} s)`);
if (failures.length) {
  console.log(`\nFAILED:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
process.exit(0);
