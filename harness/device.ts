// Drives the built `ota` module on emulated boards: puts it in Storage as a user would,
// publishes releases with the real publisher, and reads what the device reported.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board, type BoardName } from "../emulator/board.ts";
import type { Flash } from "../emulator/flash-memory.ts";
import { release } from "../tools/release.ts";
import { flashedFiles, committedModules } from "./real-ota.ts";
import { MODULES } from "../scripts/build.ts";
import { STATE, JOURNAL, BOOT, BOOT_COUNT, PENDING, LAST_ERROR, STAGE, isStage } from "../modules/formats.ts";

export const OTA_MIN = readFileSync(join(MODULES, "ota.min.js"), "utf8");
export const BOARDS: BoardName[] = ["ESP32", "ESP8266_4MB", "ESP8266_BOARD"];

/** A board with the updater's files in Storage (`ota` and the boot stages), as `npm run flash` leaves it. */
export function otaBoard(board: BoardName, opts: { flash?: Flash; connectCheck?: boolean } = {}): Board {
  const b = new Board({ board, flash: opts.flash, http: { connectCheck: opts.connectCheck ?? true } });
  if (!opts.flash) for (const [name, data] of Object.entries(flashedFiles(committedModules()))) b.flash.writeFile(name, data);
  return b;
}

export interface Outcome {
  err?: { code: string; message: string };
  result?: any;
}

const MARK = "@@ota ";

/** Calls require("ota").<fn>(opts) on a running board and waits for its callback. */
export async function call(b: Board, fn: "update" | "check", opts: object, timeout = 15000): Promise<Outcome> {
  const before = b.output.length;
  b.exec(`require("ota").${fn}(${JSON.stringify(opts)}, function (e, r) {
    print(${JSON.stringify(MARK)} + JSON.stringify(e ? {err: {code: e.code, message: e.message}} : {result: r}));
  });`);
  const deadline = Date.now() + timeout;
  for (;;) {
    const line = b.output.slice(before).split("\n").find((l) => l.startsWith(MARK));
    if (line) return JSON.parse(line.slice(MARK.length));
    if (Date.now() > deadline) throw new Error(`no callback from ota.${fn} within ${timeout} ms; board said:\n${b.output.slice(before)}`);
    const why = await b.settle({ timeout: 50 });
    if (why === "powercut") throw new Error("power cut before the callback");
  }
}

/** The app of the seed's example: boot code that updates, and a main module it starts. */
export function sampleApp(version: string, opts: object): Record<string, string> {
  return {
    ".bootcde":
      `print("boot ${version}");` +
      `require("ota").update(${JSON.stringify(opts)}, function (e, r) {` +
      ` print("update " + (e ? e.code + " " + e.message : JSON.stringify(r)));` +
      ` if (e || !r.updated) require("main").start();` +
      `});`,
    main: `exports.start = function () { print("main ${version}"); };`,
  };
}

/** Random printable payload (safe for every updater, including string-concat ones). */
export function payload(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) b[i] = 0x21 + (b[i] % 94);
  return b;
}

/** Storage bytes a file of n bytes takes (Espruino's jsflash.c), as the module counts them. */
export { room } from "../modules/formats.ts";

/** Publishes `files` (Storage name -> content) as `version` with the real publisher. */
export async function publish(root: string, project: string, version: string, files: Record<string, string | Buffer>, layout = "prefix", key?: string) {
  const src = mkdtempSync(join(tmpdir(), "ota-src-"));
  const list = Object.entries(files).map(([name, data], i) => {
    const p = join(src, `f${i}`);
    writeFileSync(p, data, "latin1"); // a string is bytes, as Storage holds them
    return { name, path: p };
  });
  return release({ root, project, version, layout, files: list, key });
}

export function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "ota-root-"));
  mkdirSync(root, { recursive: true });
  return root;
}

/** What the updater's own files say, and every other file, for exact comparisons.
 *  leftovers: a journal, or copies that neither the installed release nor its
 *  predecessor owns (kept copies are the rollback's safety net, not leftovers). */
export function installed(b: Board): { version?: string; previous?: string; files: Record<string, string>; leftovers: string[]; state: any } {
  const st = b.flash.readFile(STATE);
  const state = st ? (new Function(`return (${st.toString("latin1")})`)() as any) : {};
  const files: Record<string, string> = {};
  const leftovers: string[] = [];
  for (const f of b.flash.files()) {
    if ([STATE, BOOT, BOOT_COUNT, PENDING, LAST_ERROR, "ota"].includes(f.name)) continue;
    if (isStage(f.name)) {
      const set = f.name.charAt(STAGE.length);
      if (set !== state.s && set !== state.o) leftovers.push(f.name);
    } else if (f.name === JOURNAL) leftovers.push(f.name);
    else files[f.name] = f.data.toString("latin1");
  }
  return { version: state.v, previous: state.p, files, leftovers, state };
}

/**
 * Device code (ES5) of a bare streaming download of `o.files` of `version` into Storage:
 * http.get and Storage.write per chunk, no OTA logic at all (the baseline of the bench's
 * speed and RAM figures). `onChunk` is code run after each chunk is stored; at the end it
 * calls done({ok: true}), which the caller defines.
 */
export function bareDownload(o: { host: string; project: string; files: string[]; user?: string; password?: string }, version: string, onChunk = ""): string {
  const auth = o.user ? `{Authorization: "Basic " + btoa(${JSON.stringify(o.user + ":" + o.password)})}` : "{}";
  return `var S = require("Storage"), names = ${JSON.stringify(o.files)}, i = 0;
  var h = ${auth};
  function next() {
    if (i == names.length) return done({ok: true});
    var name = names[i++], at = 0, size = 0;
    var p = url.parse(${JSON.stringify(o.host + "/" + o.project + "/" + version + "_")} + encodeURIComponent(name));
    p.headers = h;
    require("http").get(p, function (res) {
      for (var k in res.headers) if (k.toLowerCase() == "content-length") size = +res.headers[k];
      res.on("data", function (d) { S.write(name, d, at, size); at += d.length; ${onChunk} });
      res.on("close", function () { setTimeout(next, 1); });
    });
  }
  next();`;
}
