// The bench's updaters on emulated boards: espruino-ota and the micropython_ota port as
// device code, a probe of the largest RAM chunk crossing the Storage/http boundary, and a
// runner that takes device code to completion (through reboots) with bounded time. What
// the tests share with the bench (publishing, payloads, the bare download, the servers,
// the real interpreter) is in harness/.
import { Board, type BoardName, type BoardProbe } from "../emulator/board.ts";

/**
 * RAM held by device code at once, measured at the API boundary (the emulator cannot see
 * the JS heap of the device): the largest of
 *  - a body chunk http hands to a 'data' listener (a RAM string on every board);
 *  - the data of a Storage.write / writeJSON call, unless it is a string Storage.read just
 *    returned (memory-mapped NativeString on ESP32/ESP8266: zero RAM copy, platform doc
 *    §2.1).
 * A module that concatenates a body in RAM shows up here when it writes it.
 */
export class MemProbe implements BoardProbe {
  httpMax = 0;
  writeRamMax = 0;
  private recent: string[] = [];
  read(_name: string, v: string | undefined) {
    if (v === undefined) return;
    this.recent.push(v);
    if (this.recent.length > 4) this.recent.shift();
  }
  write(_name: string, data: unknown) {
    if (typeof data == "string") {
      if (this.recent.includes(data)) return; // flash-backed
      this.writeRamMax = Math.max(this.writeRamMax, data.length);
    } else if (data && typeof (data as { length?: number }).length == "number") {
      this.writeRamMax = Math.max(this.writeRamMax, (data as { length: number }).length);
    }
  }
  httpData(chunk: string) {
    this.httpMax = Math.max(this.httpMax, chunk.length);
  }
  get peak() {
    return Math.max(this.httpMax, this.writeRamMax);
  }
}

const MARK = "@@bench ";

/**
 * Runs `code` (device JS that eventually calls `done(value)`) on a powered board, then drives
 * the board through any reboots until it is idle. Returns the value passed to done().
 */
export async function runDevice(b: Board, code: string, wallMs = 60_000): Promise<any> {
  const before = b.output.length;
  b.exec(`(function(){ function done(v){ print(${JSON.stringify(MARK)} + JSON.stringify(v === undefined ? null : v)); }\n${code}\n})();`);
  const r = await b.run({ timeout: 3_600_000, wallTimeout: wallMs, maxReboots: 3 });
  if (r == "timeout" || r == "powercut") throw new Error(`board ${b.name}: ${r}; said:\n${b.output.slice(before).slice(-2000)}`);
  const line = b.output.slice(before).split("\n").find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`board ${b.name}: no result; said:\n${b.output.slice(before).slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length));
}

export function board(name: BoardName, stored: Record<string, string | Buffer>): Board {
  const b = new Board({ board: name });
  for (const [n, code] of Object.entries(stored)) b.flash.writeFile(n, code);
  return b;
}

export interface Updater {
  name: string;
  /** device code that updates to what the server has and calls done({ok, err?}) */
  update(o: UpdOpts): string;
  /** device code for the no-op check; calls done(...) */
  check(o: UpdOpts): string;
}
export interface UpdOpts {
  host: string; project: string; files: string[]; user: string; password: string;
  /** espruino-ota only: opts.keep (undefined: the module's default, true) */
  keep?: boolean;
}

export const OTA: Updater = {
  name: "espruino-ota",
  update: (o) => `require("ota").update(${JSON.stringify({ ...o, reset: "hard" })}, function (e, r) { done(e ? {err: e.code + " " + e.message} : {ok: r.updated}); });`,
  check: (o) => `require("ota").check(${JSON.stringify({ host: o.host, project: o.project, user: o.user, password: o.password })}, function (e, r) { done(e ? {err: e.code + " " + e.message} : {ok: r.available}); });`,
};

export const MPOTA: Updater = {
  name: "micropython_ota port",
  update: (o) => `require("mpota").ota_update(${JSON.stringify(o.host)}, ${JSON.stringify(o.project)}, ${JSON.stringify(o.files)}, true, ${JSON.stringify(o.user)}, ${JSON.stringify(o.password)}, true, false, 5, function (e, r) { done(e ? {err: e.message} : {ok: r}); });`,
  check: (o) => `require("mpota").check_version(${JSON.stringify(o.host)}, ${JSON.stringify(o.project)}, btoa(${JSON.stringify(o.user + ":" + o.password)}), 5, function (c, v) { done({ok: c}); });`,
};
