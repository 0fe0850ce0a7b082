// The one way our tools run the `espruino` CLI (npm `espruino` 0.1.67, EspruinoTools).
// It is spawned as a child process (`node <espruino>/bin/espruino-cli.js …`, found with
// Node's module resolution wherever npm put it) with every known trap of that CLI handled
// here (docs: espruino-platform.md §9, §12):
//
//   --board NAME downloads JSON from the web   -> always a local boards/<NAME>.json path,
//                                                 and BOARD_JSON_URL points at boards/
//   ./modules lookup is broken (undeclared fs) -> MODULE_URL = our modules/ dir (+ ./modules of
//                                                 the cwd), so require("ota") finds ota.min.js
//   MODULE_URL defaults to https://…           -> replaced; and a --require preload refuses any
//                                                 non-loopback http(s) request, so it never
//                                                 touches the web
//   the ESPRIMA minifier breaks ES6 classes    -> MODULE_MINIFICATION_LEVEL and MINIFICATION_LEVEL
//                                                 empty, never -m; modules ship as *.min.js
//   -p tcp://… crashes in the BLE layer        -> --no-ble (unless the port is a BLE address)
//   an upload of ≤ 512 bytes never completes   -> SERIAL_THROTTLE_SEND=1 for small uploads
//   baud defaults to 9600                      -> -b from the board JSON (ota.baud, 115200)
//   no port: it scans and takes the first one  -> refused: a port must be given
//   refused TCP: it hangs forever              -> detected from its output, and a timeout
//   silent board: it uploads blind, exits 0    -> the upload prints a marker; no marker = error
//   a chatty app keeps it from exiting         -> stopped once the marker has been seen
//   it bundles every non-built-in module       -> bundle({builtin: ["ota"]}) lists extra names in
//                                                 info.builtin_modules of a temporary board JSON
// Errors are OtaError (tools/lib/errors.ts) with a code from modules/formats.ts, and `log`:
// the tail of the CLI's output, for a bug report.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { E_BOARD, E_BUSY, E_CLI, E_MISSING, E_MODULE, E_NET, E_NO_ANSWER, E_PORT, E_TIMEOUT } from "../modules/formats.ts";
import { OtaError } from "./lib/errors.ts";
import { BOARDS_DIR, MODULES_DIR } from "./package-files.ts";

export { BOARDS_DIR, MODULES_DIR };
// Beside this file in the sources (tools/) and in the built CLI (dist/, where
// scripts/build-tools.ts copies it).
export const PRELOAD = fileURLToPath(new URL("./espruino-cli-preload.cjs", import.meta.url));

/** The espruino CLI's script, wherever npm installed the `espruino` package. */
export function espruinoCliJs(): string {
  try {
    return createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
  } catch (e: any) {
    throw cliError(E_CLI, `the espruino CLI (npm package "espruino") is not installed beside espruino-ota: ${e.message.split("\n")[0]}; reinstall espruino-ota`);
  }
}

/** An error of the wrapper: `log` holds the tail of the CLI's output, if it ran. */
export type CliError = OtaError & { log: string };

export function cliError(code: string, message: string, log = ""): CliError {
  return Object.assign(new OtaError(code, message), { log });
}

export interface BoardJson {
  info?: { name?: string; binary_version?: string; builtin_modules?: string[]; default_console_baudrate?: string };
  ota?: { baud?: number; telnetPort?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** boards/<NAME>.json for a name like "ESP32", or the given path to a local JSON file. */
export function boardJsonPath(board: string): string {
  if (!board) throw cliError(E_BOARD, "no board given: use ESP32, ESP8266_4MB, ESP8266_BOARD or LINUX, or a path to a board JSON file");
  const isName = /^[A-Za-z0-9_]+$/.test(board);
  const p = isName ? join(BOARDS_DIR, board + ".json") : resolve(board);
  if (!existsSync(p)) {
    const known = readdirSync(BOARDS_DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    throw cliError(E_BOARD, isName
      ? `unknown board "${board}": known boards are ${known.join(", ")} (or give a path to a board JSON file)`
      : `board JSON ${p} does not exist`);
  }
  return p;
}

export function readBoardJson(board: string): BoardJson {
  const p = boardJsonPath(board);
  try {
    return JSON.parse(readFileSync(p, "utf8")) as BoardJson;
  } catch (e: any) {
    throw cliError(E_BOARD, `board JSON ${p} is not valid JSON: ${e.message}`);
  }
}

/** The console baud rate of a board: ota.baud, else info.default_console_baudrate, else 115200. */
export function boardBaud(board: string): number {
  const j = readBoardJson(board);
  return Number(j.ota?.baud ?? j.info?.default_console_baudrate ?? 115200) || 115200;
}

export interface CommonOptions {
  /** ESP32 | ESP8266_4MB | ESP8266_BOARD | LINUX, or a path to a board JSON */
  board: string;
  /** where require() finds modules, searched in order (default: our modules/ and <cwd>/modules) */
  modulesDirs?: string[];
  /** extra `--config KEY=value` settings */
  config?: Record<string, string | number | boolean>;
  /** working directory of the CLI (default process.cwd()) */
  cwd?: string;
  /** ms before the CLI is stopped (default: 30 s for a bundle, 30 s + 0.3 s per line for an upload) */
  timeout?: number;
  /** every line the CLI prints (its own log and the board's output), for debugging */
  onLog?: (line: string) => void;
}

/** Where require() looks, absolute, in order. */
export function modulesDirs(o: Pick<CommonOptions, "modulesDirs" | "cwd">): string[] {
  const cwd = o.cwd ?? process.cwd();
  const dirs = (o.modulesDirs ?? [MODULES_DIR, join(cwd, "modules")]).map((d) => resolve(cwd, d));
  return dirs.filter((d, i) => dirs.indexOf(d) == i);
}

/** The flags every run gets: local board JSON, local modules, no minifier, offline. */
export function baseArgs(o: CommonOptions): string[] {
  const config: Record<string, string | number | boolean> = {
    MODULE_URL: modulesDirs(o).join("|"),
    MODULE_EXTENSIONS: ".min.js|.js",
    MODULE_MINIFICATION_LEVEL: "",
    MINIFICATION_LEVEL: "",
    BOARD_JSON_URL: BOARDS_DIR,
    ...o.config,
  };
  const args = ["--board", boardJsonPath(o.board)];
  for (const [k, v] of Object.entries(config)) args.push("--config", `${k}=${v}`);
  return args;
}

/** How `espruino …` is spelled with our flags, for people to copy (README, errors). */
export function commandLine(args: string[]): string {
  return "npx espruino " + args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the board's output lines ("--] " lines of the CLI) */
  device: string[];
}

interface RunOptions {
  cwd?: string;
  timeout: number;
  onLog?: (line: string) => void;
  /** called for every board line; return an Error to stop the CLI and fail, or "stop" to stop and succeed */
  onDevice?: (line: string) => Error | "stop" | void;
  /** called for every CLI log line; may return an Error to stop and fail */
  onCliLine?: (line: string) => Error | void;
  /** ms to let the CLI finish on its own after onDevice said "stop" */
  grace?: number;
}

/** Runs the espruino CLI with our preload; resolves when it exits (or is stopped). */
export function runCli(args: string[], o: RunOptions): Promise<RunResult> {
  let cliJs: string;
  try {
    cliJs = espruinoCliJs();
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--require", PRELOAD, cliJs, ...args], {
      cwd: o.cwd ?? process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "", stderr = "", outBuf = "", errBuf = "";
    const device: string[] = [];
    let failure: Error | undefined;
    let stopped = false;
    let finished = false;
    const log = () => (stdout + (stderr ? "\n[stderr]\n" + stderr : "")).slice(-4000);
    const stop = (err?: Error) => {
      if (stopped) return;
      stopped = true;
      failure = err;
      if (err) child.kill("SIGTERM");
      else setTimeout(() => child.kill("SIGTERM"), o.grace ?? 1000).unref();
    };
    const timer = setTimeout(() => {
      stop(cliError(E_TIMEOUT, `the espruino CLI did not finish within ${Math.round(o.timeout / 1000)} s`, log()));
    }, o.timeout);
    const onLine = (line: string, isErr: boolean) => {
      o.onLog?.(line);
      if (!isErr && line.startsWith("--] ")) {
        const d = line.slice(4).replace(/\r$/, "");
        device.push(d);
        const r = o.onDevice?.(d);
        if (r === "stop") stop();
        else if (r) stop(r);
        return;
      }
      const r = o.onCliLine?.(line);
      if (r) stop(r);
    };
    const split = (chunk: string, isErr: boolean) => {
      let buf = (isErr ? errBuf : outBuf) + chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i), isErr);
        buf = buf.slice(i + 1);
      }
      if (isErr) errBuf = buf; else outBuf = buf;
    };
    child.stdout.setEncoding("latin1");
    child.stderr.setEncoding("latin1");
    child.stdout.on("data", (c: string) => { stdout += c; split(c, false); });
    child.stderr.on("data", (c: string) => { stderr += c; split(c, true); });
    child.on("error", (e) => {
      clearTimeout(timer);
      if (!finished) { finished = true; reject(cliError(E_CLI, `could not start the espruino CLI: ${e.message}`)); }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (finished) return;
      finished = true;
      if (outBuf) onLine(outBuf, false);
      if (errBuf) onLine(errBuf, true);
      if (failure) {
        if (failure instanceof OtaError && !(failure as CliError).log) (failure as CliError).log = log();
        reject(failure);
      } else resolvePromise({ code: stopped ? 0 : code, stdout, stderr, device });
    });
  });
}

function missingModules(stderr: string): string[] {
  const names: string[] = [];
  for (const m of stderr.matchAll(/Module (\S+) not found/g)) if (!names.includes(m[1])) names.push(m[1]);
  return names;
}

function checkFile(file: string, what: string): string {
  const p = resolve(file);
  if (!existsSync(p)) throw cliError(E_MISSING, `${what} ${file} does not exist`);
  if (!statSync(p).isFile()) throw cliError(E_MISSING, `${what} ${file} is not a file`);
  return p;
}

export interface BundleOptions extends CommonOptions {
  /** the program to bundle, e.g. main.js */
  entry: string;
  /** where to write the bundle (what would be sent to the board) */
  out: string;
  /** do not fail when a require()d module is not found (default false) */
  allowMissing?: boolean;
  /**
   * Modules the board already holds (e.g. "ota", which `flash` puts in Storage): the CLI
   * treats them as built into the firmware and does not bundle them. They are added to
   * info.builtin_modules of a temporary copy of the board JSON given to the CLI.
   */
  builtin?: string[];
}

export interface BundleResult {
  out: string;
  code: string;
  /** modules the CLI bundled in (Modules.addCached) */
  modules: string[];
  args: string[];
}

/**
 * A copy of the board's JSON, written into `dir`, whose info.builtin_modules also lists
 * `extra`: the CLI skips a module it thinks is built in (core/modules.js isBuiltIn), which is
 * the only way to keep it from bundling a module the board already has in Storage.
 */
export function boardJsonWithBuiltins(board: string, extra: string[], dir: string): string {
  const j = readBoardJson(board);
  const info = { ...(j.info ?? {}) };
  const list = [...(info.builtin_modules ?? [])];
  for (const m of extra) if (!list.includes(m)) list.push(m);
  info.builtin_modules = list;
  // the name keeps a "." so the CLI reads it as a file, never as a board to download
  const p = join(dir, basename(boardJsonPath(board)).replace(/\.json$/i, "") + ".builtin.json");
  writeFileSync(p, JSON.stringify({ ...j, info }, null, 1));
  return p;
}

/**
 * `espruino -o out.js entry.js` without a board: the code the CLI would upload, with every
 * non-built-in require()d module prepended as Modules.addCached(…). Modules in `builtin`
 * count as built in and are left out.
 */
export async function bundle(o: BundleOptions): Promise<BundleResult> {
  const entry = checkFile(o.entry, "program");
  const out = resolve(o.out);
  if (!/\.js$/i.test(out)) throw cliError(E_CLI, `the bundle file must end in .js (the espruino CLI insists): ${o.out}`);
  const tmp = o.builtin?.length ? mkdtempSync(join(tmpdir(), "espruino-board-")) : undefined;
  let r: RunResult, args: string[];
  try {
    const board = tmp ? boardJsonWithBuiltins(o.board, o.builtin!, tmp) : o.board;
    args = [...baseArgs({ ...o, board }), "--no-ble", "-o", out, entry];
    rmSync(out, { force: true });
    r = await runCli(args, { cwd: o.cwd, timeout: o.timeout ?? 30_000, onLog: o.onLog });
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  const missing = missingModules(r.stderr);
  if (missing.length && !o.allowMissing) {
    throw cliError(E_MODULE, `module${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not found in ${modulesDirs(o).join(", ")}${missing.includes("ota") ? " (npm run build makes modules/ota.min.js)" : ""}`, r.stdout + r.stderr);
  }
  if (r.code !== 0 || !existsSync(out)) {
    throw cliError(E_CLI, `the espruino CLI failed (exit ${r.code}) bundling ${o.entry}`, (r.stdout + "\n" + r.stderr).slice(-4000));
  }
  const code = readFileSync(out, "latin1");
  const modules = [...code.matchAll(/^Modules\.addCached\("([^"]+)"/gm)].map((m) => m[1]);
  return { out, code, modules, args };
}

export interface UploadOptions extends CommonOptions {
  /** /dev/ttyUSB0, COM3, tcp://192.168.1.50[:23] */
  port: string;
  /** the code to send … */
  code?: string;
  /** … or a file holding it */
  file?: string;
  /** serial baud rate (default from the board JSON: 115200) */
  baud?: number;
  /**
   * Text the board prints when the upload has worked. Without it, a line that prints a
   * marker is appended to the code. Give it when the code ends by resetting the board
   * (E.reboot(), load()) and prints its own marker first.
   */
  expect?: string;
  /** a board line that means the upload failed (the line becomes the error message) */
  failOn?: RegExp;
  /** every line the board prints */
  onDevice?: (line: string) => void;
  /** reset() the board before sending (the CLI's default, true) */
  resetFirst?: boolean;
}

export interface UploadResult {
  /** lines the board printed */
  output: string[];
  args: string[];
}

const MARK = "espruino-ota upload done";

/** Sends code to a board over serial or telnet through the espruino CLI. */
export async function upload(o: UploadOptions): Promise<UploadResult> {
  const port = (o.port ?? "").trim();
  if (!port) {
    throw cliError(E_PORT, "no port given: pass the board's serial port (--port /dev/ttyUSB0, COM3) or its telnet console (--port tcp://192.168.1.50)");
  }
  const isTcp = port.startsWith("tcp://");
  const isBle = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(port);
  if (!isTcp && !isBle && (port.startsWith("/dev/") || isAbsolute(port)) && !existsSync(port)) {
    throw cliError(E_PORT, `serial port ${port} does not exist: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)`);
  }
  if (o.code === undefined && o.file === undefined) throw cliError(E_MISSING, "nothing to upload: give code or a file");
  let code = o.code ?? readFileSync(checkFile(o.file!, "program"), "latin1");
  let expect = o.expect;
  if (expect === undefined) {
    expect = MARK;
    // split so that an echo of the code cannot match
    code = code.replace(/\n*$/, "\n") + `print(${JSON.stringify(MARK.slice(0, 8))}+${JSON.stringify(MARK.slice(8))});\n`;
  }
  const dir = mkdtempSync(join(tmpdir(), "espruino-up-"));
  const file = join(dir, basename(o.file ?? "upload.js").replace(/(\.js)?$/i, ".js"));
  writeFileSync(file, code, "latin1");
  const baud = o.baud ?? boardBaud(o.board);
  const config: Record<string, string | number | boolean> = { ...o.config };
  // An upload of ≤ 512 bytes never reports completion (serial.js showStatus); throttling avoids it.
  if (code.length < 1024 && config.SERIAL_THROTTLE_SEND === undefined) config.SERIAL_THROTTLE_SEND = 1;
  if (o.resetFirst === false) config.RESET_BEFORE_SEND = false;
  const args = [...baseArgs({ ...o, config }), "-v", "-b", String(baud), "-p", port];
  if (!isBle) args.push("--no-ble");
  args.push(file);
  const lines = code.split("\n").length;
  const timeout = o.timeout ?? 30_000 + 300 * lines;
  let seen = false;
  let anyDevice = false;
  let gotNothing = false;
  try {
    const r = await runCli(args, {
      cwd: o.cwd,
      timeout,
      onLog: o.onLog,
      grace: 1500,
      onDevice(line) {
        anyDevice = true;
        o.onDevice?.(line);
        if (o.failOn && o.failOn.test(line)) return cliError(E_CLI, line.trim());
        if (line.includes(expect!)) { seen = true; return "stop"; }
      },
      onCliLine(line) {
        if (/RECEIVE ERROR:.*(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)/.test(line)) {
          const why = /ECONNREFUSED/.test(line) ? "connection refused" : (line.match(/"code":"(\w+)"/)?.[1] ?? "unreachable");
          return cliError(E_NET, `cannot connect to ${port}: ${why} (is the board on, on the network, and its telnet console on port ${port.split(":")[2] ?? 23}?)`);
        }
        if (!isTcp && !/udevadm|getPorts|list/i.test(line) && /serialport error:|Error opening|Cannot lock port|Resource busy|Resource temporarily unavailable|Permission denied/i.test(line)) {
          const busy = /lock|busy|temporarily unavailable/i.test(line);
          return cliError(busy ? E_BUSY : E_PORT, busy
            ? `${port} is busy: another program holds it (Espruino IDE, screen, minicom, another espruino): close it and try again`
            : `cannot open ${port}: ${line.replace(/^.*?(serialport error:|Error:)\s*/i, "")}${/Permission denied/i.test(line) ? " (add yourself to the dialout group)" : ""}`);
        }
        if (line.startsWith("Got ")) gotNothing = line === 'Got ""';
        if (line.startsWith("Still no prompt") && gotNothing && !anyDevice) return noAnswer("no prompt after a newline and two Ctrl-C");
        if (line.includes("Unable to connect!")) return cliError(E_PORT, `cannot open ${port}`);
      },
    });
    if (!seen) {
      if (r.code !== 0) throw cliError(E_CLI, `the espruino CLI failed (exit ${r.code}) uploading to ${port}`, (r.stdout + r.stderr).slice(-4000));
      throw noAnswer(anyDevice ? "the upload was not confirmed (the board printed: " + r.device.slice(-3).join(" | ") + ")" : "it printed nothing");
    }
    return { output: r.device, args };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  function noAnswer(why: string) {
    return cliError(E_NO_ANSWER, `the board on ${port} does not answer: ${why}. Check that it runs Espruino` +
      (isTcp ? ", and that nothing else is connected to its telnet console" : `, the baud rate (${baud}; ESP boards use 115200), and that no other program holds the port`));
  }
}

/**
 * `npm run espruino -- [--board ESP32] [espruino CLI options] main.js`: the espruino CLI with our
 * fixes. --board takes a name (boards/<NAME>.json, default ESP32) or a JSON path; -b defaults to
 * the board's baud rate; --no-ble is added for anything but a BLE address; require("ota") is
 * served from modules/ota.min.js. Everything else goes to the CLI unchanged (so -p, -o, -e,
 * --storage, -w and the interactive terminal all work).
 */
export function passthroughArgs(argv: string[]): string[] {
  const rest = [...argv];
  let board = "ESP32";
  const bi = rest.indexOf("--board");
  if (bi >= 0) {
    board = rest[bi + 1];
    rest.splice(bi, 2);
  }
  const extra: string[] = [];
  if (!rest.includes("-b")) extra.push("-b", String(boardBaud(board)));
  const pi = Math.max(rest.indexOf("-p"), rest.indexOf("--port"));
  const port = pi >= 0 ? rest[pi + 1] ?? "" : "";
  if (!rest.includes("--no-ble") && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(port)) extra.push("--no-ble");
  if (rest.includes("-m") || rest.includes("--minify")) {
    process.stderr.write("espruino-ota: note: -m minifies with esprima/esmangle, which breaks ES6 classes (renames `class Foo` but not `new Foo`)\n");
  }
  return [...baseArgs({ board }), ...extra, ...rest];
}
