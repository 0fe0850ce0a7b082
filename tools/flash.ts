// espruino-ota flash: puts the updater (and optionally an app and settings) on a board that
// already runs Espruino, through the espruino CLI (tools/espruino-cli.ts).
//
// It reads the shipped device files (modules/ota.tok, boot.tok, count.min.js: never
// rebuilt, never written) and makes ONE upload script that, on the board:
//   1. erases the updater's state (.otav, .otaj, .otac, .otan, .otae, .ota_*): a flashed board has no
//      installed release, unless --version records one, so a stale journal can never copy
//      old staged files over the app just flashed;
//   2. writes Storage files, each binary-safe in ≤ 384-byte atob() pieces, exactly like the
//      CLI's own --storage upload: require("Storage").write(name, atob("…"), offset, size):
//        ota        modules/ota.tok (the module, pretokenised; ota.min.js with --text), so
//                   require("ota") works after every reboot
//        .boot0     modules/boot.tok (boot.min.js with --text), the boot stage (update()
//                   never writes it: it answers EBOOT without it, unless a release carries
//                   a new one); an older .boot0 from a previous flash is replaced by the
//                   one matching this module
//        .bootPowerOn  counts real starts of a pending release (the same)
//        .bootcde   the app (or --name <Storage name>)
//        wifi.json  {"ssid","password"} for --wifi: the example app connects with it at
//                   every boot (works the same on ESP32 and ESP8266, and the app knows when
//                   the network is up); the firmware's own Wifi.save() is left alone
//        ota.json   {"host","project","files"} for --host/--project/--files: what the example
//                   app passes to update()/check(), so one app serves a whole fleet
//        .otav      {"v": version} with --version: the flashed app counts as that release
//   3. checks every file's length and CRC32 on the board and prints the result;
//   4. reboots (E.reboot(), a cold boot: .boot0 then .bootcde), unless reset is false.
// --dry-run writes that script to a file instead of sending it. The same inputs give the
// same bytes (no timestamps, no random names). The file is 0600: it holds the Wi-Fi password.
import { existsSync, readFileSync, statSync } from "node:fs";
import { crc32 } from "./lib/digest.ts";
import { resolve } from "node:path";
import {
  BOOT, BOOT_COUNT, STATE, JOURNAL, COMPACT, PENDING, LAST_ERROR, STAGE, nameError, versionError,
  E_OPTS, E_NAME, E_VERSION, E_MISSING, E_PORT,
} from "../modules/formats.ts";
import { fail } from "./lib/errors.ts";
import { readDeviceFiles, type DeviceFiles } from "./package-files.ts";
import { upload, boardJsonPath, boardBaud } from "./espruino-cli.ts";
import { writeSecretFile } from "./lib/secret.ts";

export const CHUNK = 384; // raw bytes per Storage.write line, as the CLI's --storage upload
export const WIFI_FILE = "wifi.json";
export const CONFIG_FILE = "ota.json";
/** what the board prints when every file checked out; upload() waits for it */
export const DONE = "espruino-ota: flash ok";
export const FAILED = "espruino-ota: flash FAILED";

export interface FlashOptions {
  /** ESP32 | ESP8266_4MB | ESP8266_BOARD | LINUX, or a board JSON path */
  board: string;
  /** /dev/ttyUSB0, COM3 or tcp://host[:port]; not needed with dryRun */
  port?: string;
  baud?: number;
  /** "ssid:password" (the password may hold ':'; none for an open network) */
  wifi?: string;
  host?: string;
  project?: string;
  /** Storage names of a release, for ota.json (default: the app's name) */
  files?: string[];
  /** the app's source file */
  app?: string;
  /** Storage name of the app (default .bootcde) */
  name?: string;
  /** more Storage files: name -> local path */
  storage?: Record<string, string>;
  /** record the flashed app as this installed release */
  version?: string;
  /** store the module and the boot stage as text (ota.min.js, boot.min.js), not pretokenised */
  text?: boolean;
  /** reboot at the end (default true) */
  reset?: boolean;
  /** write the script to this file instead of sending it */
  dryRun?: string;
  timeout?: number;
  /** progress lines for people */
  log?: (line: string) => void;
  /** every line of the espruino CLI (debugging) */
  onCliLog?: (line: string) => void;
}

export interface FlashFile {
  name: string;
  data: Buffer;
  what: string;
}

export interface FlashResult {
  script: string;
  files: { name: string; size: number; crc32: number }[];
  /** lines the board printed (not for a dry run) */
  output?: string[];
  /** the serial baud rate used (not for a dry run) */
  baud?: number;
  dryRun?: string;
}

function parseWifi(w: string): { ssid: string; password: string } {
  const i = w.indexOf(":");
  const ssid = i < 0 ? w : w.slice(0, i);
  const password = i < 0 ? "" : w.slice(i + 1);
  if (!ssid) fail(E_OPTS, `--wifi wants ssid:password, got "${w}"`);
  if (ssid.length > 32) fail(E_OPTS, `Wi-Fi SSID "${ssid}" is longer than 32 bytes`);
  if (password && (password.length < 8 || password.length > 64)) fail(E_OPTS, "a WPA Wi-Fi password has 8 to 63 characters (64 hex digits)");
  return { ssid, password };
}

// The board's rules for a Storage name (formats.ts), which also keep the updater's own names
// (.boot0, .ota*) from being overwritten by an app or a --storage file.
function checkName(name: string, what: string): void {
  const why = nameError(name);
  if (why) fail(E_NAME, `${what} "${name}" ${why}`);
}

function readInput(path: string, what: string): Buffer {
  const p = resolve(path);
  if (!existsSync(p)) fail(E_MISSING, `${what} ${path} does not exist`);
  if (!statSync(p).isFile()) fail(E_MISSING, `${what} ${path} is not a file`);
  const b = readFileSync(p);
  if (b.length == 0) fail(E_MISSING, `${what} ${path} is empty (Storage cannot hold an empty file)`);
  return b;
}

/** The Storage files a flash writes, in write order. */
export function flashFiles(o: FlashOptions, device: DeviceFiles): FlashFile[] {
  const files: FlashFile[] = [
    { name: "ota", data: Buffer.from(o.text ? device.otaMin : device.otaTok, "latin1"), what: "the ota module" },
    { name: BOOT, data: Buffer.from(o.text ? device.boot : device.bootTok, "latin1"), what: "the boot stage" },
    { name: BOOT_COUNT, data: Buffer.from(device.count, "latin1"), what: "the start counter of pending releases" },
  ];
  const appName = o.name ?? ".bootcde";
  if (o.app !== undefined) {
    checkName(appName, "app name");
    files.push({ name: appName, data: readInput(o.app, "app"), what: "the app" });
  }
  for (const [name, path] of Object.entries(o.storage ?? {})) {
    checkName(name, "Storage name");
    files.push({ name, data: readInput(path, `file for ${name}:`), what: path });
  }
  if (o.wifi !== undefined) {
    files.push({ name: WIFI_FILE, data: Buffer.from(JSON.stringify(parseWifi(o.wifi)), "utf8"), what: "Wi-Fi settings" });
  }
  if (o.host !== undefined || o.project !== undefined || o.files !== undefined) {
    if (!o.host || !o.project) fail(E_OPTS, "give both --host and --project (and --files) for the app's update settings");
    if (!/^https?:\/\/[^/]+/.test(o.host)) fail(E_OPTS, `--host must start with http:// or https://, got "${o.host}"`);
    const rel = o.files && o.files.length ? o.files : [appName];
    for (const f of rel) {
      const e = nameError(f);
      if (e) fail(E_NAME, `release file "${f}" ${e}`);
    }
    const cfg = { host: o.host.replace(/\/+$/, ""), project: o.project, files: rel };
    files.push({ name: CONFIG_FILE, data: Buffer.from(JSON.stringify(cfg), "utf8"), what: "update settings" });
  }
  if (o.version !== undefined) {
    const e = versionError(o.version);
    if (e) fail(E_VERSION, `version "${o.version}" ${e}`);
    files.push({ name: STATE, data: Buffer.from(JSON.stringify({ v: o.version }), "utf8"), what: "the installed version" });
  }
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) fail(E_OPTS, `Storage file "${f.name}" is given twice`);
    seen.add(f.name);
  }
  return files;
}

const W = 'require("Storage").write'; // the CLI paces lines of exactly this form (250 ms each)

/** The upload script: byte-stable for the same inputs. */
export function flashScript(board: string, files: FlashFile[], reset = true): string {
  const L: string[] = [];
  L.push(`// espruino-ota flash script for ${board}: ${files.map((f) => f.name).join(", ")}`);
  L.push("// Written by `espruino-ota flash`; send it to the board's console (it is what flash sends).");
  L.push(`print("espruino-ota: flashing ${files.length} files");`);
  // the updater's state: a fresh flash has no release installed and nothing half-done
  L.push(`(function(){var S=require("Storage");[${[JOURNAL, STATE, COMPACT, PENDING, LAST_ERROR].map((n) => JSON.stringify(n)).join(",")}].forEach(function(f){S.erase(f);});` +
    `S.list().forEach(function(f){if(f.indexOf(${JSON.stringify(STAGE)})==0)S.erase(f);});})();`);
  for (const f of files) {
    const n = JSON.stringify(f.name);
    L.push(`print(${JSON.stringify(`espruino-ota: writing ${f.name} (${f.data.length} bytes, ${f.what})`)});`);
    L.push(`require("Storage").erase(${n});`);
    for (let off = 0; off < f.data.length; off += CHUNK) {
      const b64 = f.data.subarray(off, off + CHUNK).toString("base64");
      L.push(off == 0 ? `${W}(${n},atob("${b64}"),0,${f.data.length});` : `${W}(${n},atob("${b64}"),${off});`);
    }
  }
  const table = files.map((f) => `[${JSON.stringify(f.name)},${f.data.length},${crc32(f.data)}]`).join(",");
  // The last line checks every file, prints the result and only then reboots; the marker is
  // split so that an echo of this line could never look like success.
  L.push(`(function(){var S=require("Storage"),bad=[${table}].filter(function(f){var d=S.read(f[0]);` +
    `return d===undefined||d.length!=f[1]||(E.CRC32(d)>>>0)!=f[2];}).map(function(f){return f[0];});` +
    `if(bad.length){print(${JSON.stringify(FAILED + ": ")}+bad.join(", ")+" did not read back as written");return;}` +
    `print(${JSON.stringify(DONE.slice(0, 14))}+${JSON.stringify(DONE.slice(14))}+", ${files.length} files"${reset ? '+", rebooting"' : ""});` +
    (reset ? `setTimeout(function(){E.reboot();},500);` : "") + `})();`);
  return L.join("\n") + "\n";
}

/** Makes the script from the shipped device files and sends it (or writes it with dryRun). */
export async function flash(o: FlashOptions): Promise<FlashResult> {
  const log = o.log ?? (() => {});
  boardJsonPath(o.board); // unknown board: fail before anything else
  if (!o.dryRun && !(o.port ?? "").trim()) {
    fail(E_PORT, "no port given: pass --port /dev/ttyUSB0 (serial), COM3, or tcp://192.168.1.50 (telnet); or --dry-run out.js to only write the script");
  }
  const files = flashFiles(o, readDeviceFiles());
  const script = flashScript(o.board, files, o.reset ?? true);
  const summary = files.map((f) => ({ name: f.name, size: f.data.length, crc32: crc32(f.data) }));
  if (o.dryRun) {
    await writeSecretFile(o.dryRun, Buffer.from(script, "latin1"));
    return { script, files: summary, dryRun: o.dryRun };
  }
  const baud = o.baud ?? boardBaud(o.board);
  log(`flashing ${o.board} on ${o.port}${o.port!.startsWith("tcp://") ? "" : ` at ${baud} baud`}: ${summary.map((f) => `${f.name} ${f.size} B`).join(", ")}`);
  const r = await upload({
    port: o.port!, board: o.board, baud, code: script, expect: DONE,
    failOn: new RegExp("^" + FAILED),
    timeout: o.timeout,
    onLog: o.onCliLog,
    onDevice: (line) => { if (line.startsWith("espruino-ota:")) log(line.slice(14)); },
  });
  return { script, files: summary, output: r.output, baud };
}
