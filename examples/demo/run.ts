// `npm start`: the whole path of an update on one machine, with no board and no config.
//   1. takes the device module as shipped (modules/ota.tok, which `npm run build` makes
//      from modules/ota.ts and a test proves current); it never writes inside the package
//   2. publishes the example app's v1.0.0 and v1.0.1 (examples/demo/) into a temporary
//      server root with the real publisher, release()
//   3. serves that root on 127.0.0.1 with the dev server, serve(), showing its log
//   4. boots an emulated ESP32 whose Storage holds `ota` and the v1.0.0 app; the app's
//      boot code calls require("ota").update(), whose onProgress lines drive a progress
//      bar here; the board resets and v1.0.1 says hello in the board's own output.
// Options: --keep (keep the server root), --board ESP32|ESP8266_4MB (HTTP only).
// Exits 0 when the board ran v1.0.1, 1 otherwise.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PACKAGE_ROOT as ROOT, MODULES_DIR, DEVICE_FILES } from "../../tools/package-files.ts";
import { release } from "../../tools/release.ts";
import { serve, type ServeHandle } from "../../tools/serve.ts";
import { Board, type BoardName } from "../../emulator/board.ts";

export const DEMO_DIR = path.join(ROOT, "examples", "demo");
export const PROJECT = "demo";
export const VERSIONS = ["v1.0.0", "v1.0.1"];
// Storage name on the board <- file of examples/demo/<version>/
export const APP_FILES: Record<string, string> = { ".bootcde": "boot.js", main: "main.js" };
// What the demo's boot code prints for each stored chunk (see examples/demo/v1.0.0/boot.js).
const PROGRESS = /^ota: (\S+) (\d+)\/(\d+)$/;

export interface DemoOptions {
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  tty?: boolean; // draw a cli-progress bar (default: out.isTTY)
  keep?: boolean; // keep the temporary server root
  board?: BoardName;
  timeoutMs?: number; // wall-clock limit for the board's part
}

const rel = (p: string) => path.relative(process.cwd(), p) || ".";

// Progress of the device's downloads: a cli-progress bar per file on a terminal, plain
// lines otherwise (CI logs, pipes).
interface Progress {
  update(file: string, done: number, total: number): void;
  log(line: string): void;
  stop(): void;
}

async function progress(out: NodeJS.WritableStream, tty: boolean): Promise<Progress> {
  const say = (s: string) => out.write(s + "\n");
  if (!tty) {
    return {
      update: (file, done, total) => say(`  [download] ${file.padEnd(10)} ${String(done).padStart(6)}/${total} bytes ${Math.floor((100 * done) / total)}%`),
      log: say,
      stop: () => {},
    };
  }
  const { default: cliProgress } = await import("cli-progress");
  let multi: InstanceType<typeof cliProgress.MultiBar> | undefined;
  const bars = new Map<string, ReturnType<InstanceType<typeof cliProgress.MultiBar>["create"]>>();
  return {
    update(file, done, total) {
      multi ??= new cliProgress.MultiBar(
        { stream: out, format: "  download {file} {bar} {percentage}% | {value}/{total} bytes", hideCursor: true, clearOnComplete: false, forceRedraw: true },
        cliProgress.Presets.shades_classic,
      );
      let bar = bars.get(file);
      if (!bar) {
        bar = multi.create(total, 0, { file: file.padEnd(10) });
        bars.set(file, bar);
      }
      bar.setTotal(total);
      bar.update(done, { file: file.padEnd(10) });
    },
    log(line) {
      if (!multi) return say(line);
      multi.log(line + "\n");
      multi.update(); // draws the line above the bars now
    },
    stop() {
      multi?.update(); // flush pending lines: stop() alone drops them
      multi?.stop();
      multi = undefined;
      bars.clear();
    },
  };
}

export async function demo(opts: DemoOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const tty = opts.tty ?? !!(out as { isTTY?: boolean }).isTTY;
  const say = (s = "") => out.write(s + "\n");
  const boardName = opts.board ?? "ESP32";

  // 1. The module as shipped: what `npm run flash` puts on a real board.
  const otaTok = path.join(MODULES_DIR, DEVICE_FILES.otaTok);
  const otaCode = readFileSync(otaTok, "latin1");
  say(`1. the device module: ${rel(otaTok)} (${otaCode.length} bytes, built from modules/ota.ts by npm run build, pretokenised)`);

  // 2. Both releases, published with the real publisher into a fresh server root.
  const root = mkdtempSync(path.join(tmpdir(), "espruino-ota-demo-"));
  let server: ServeHandle | undefined;
  let pb: Progress | undefined;
  try {
    say(`2. publish examples/demo into server root ${root}`);
    for (const version of VERSIONS) {
      const files = Object.entries(APP_FILES).map(([name, f]) => ({ name, path: path.join(DEMO_DIR, version, f) }));
      const r = await release({ root, project: PROJECT, version, files });
      for (let i = 0; i < files.length; i++) {
        say(`   ${version}: ${rel(files[i].path)} -> ${path.relative(root, r.files[i].path)}  (Storage "${files[i].name}")`);
      }
      say(`   ${version}: manifest ${path.relative(root, r.manifestPath)}; ${path.relative(root, r.versionPath)} = ${version}`);
    }

    // 3. The dev server, logging every request the board makes.
    pb = await progress(out, tty);
    const p = pb;
    let drain = () => {};
    // The board's lines so far first, so that both logs read in order.
    server = await serve({ root, port: 0, host: "127.0.0.1", log: (e) => (drain(), p.log("   server| " + e.line)) });
    say(`3. serve ${root} at ${server.url}  (version check: ${server.url}/${PROJECT}/version)`);

    // 4. The board: ota, its boot stages, the v1.0.0 app and its per-board config, as
    //    `npm run flash` and a first upload would leave a real one.
    const board = new Board({ board: boardName, http: { connectCheck: true } });
    const config = JSON.stringify({ host: server.url, project: PROJECT });
    const bootFile = path.join(MODULES_DIR, DEVICE_FILES.bootTok), countFile = path.join(MODULES_DIR, DEVICE_FILES.count);
    const storage: [string, string, string][] = [
      ["ota", otaCode, rel(otaTok)],
      [".boot0", readFileSync(bootFile, "latin1"), rel(bootFile)],
      [".bootPowerOn", readFileSync(countFile, "latin1"), rel(countFile)],
      ...Object.entries(APP_FILES).map(([name, f]): [string, string, string] => {
        const file = path.join(DEMO_DIR, VERSIONS[0], f);
        return [name, readFileSync(file, "latin1"), rel(file)];
      }),
      ["ota.json", config, config],
    ];
    say(`4. boot an emulated ${boardName}; Storage:`);
    for (const [name, data, from] of storage) {
      board.flash.writeFile(name, data);
      say(`   ${JSON.stringify(name).padEnd(11)} ${String(data.length).padStart(6)} bytes  <- ${from}`);
    }

    // Board output, line by line: progress lines feed the bar, the rest is shown as is.
    let shown = 0;
    let partial = "";
    const seen: string[] = [];
    drain = () => {
      const text = partial + board.output.slice(shown);
      shown = board.output.length;
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        seen.push(l);
        const m = PROGRESS.exec(l);
        if (m) p.update(m[1], Number(m[2]), Number(m[3]));
        else p.log("   board | " + l);
      }
    };
    const ticker = setInterval(drain, 40);
    let result: string;
    const deadline = Date.now() + (opts.timeoutMs ?? 60000);
    try {
      board.powerOn();
      // settle() until the board is idle after at least one reset (the update's).
      for (;;) {
        result = await board.settle({ timeout: 60000, wallTimeout: Math.max(1000, deadline - Date.now()) });
        drain();
        if (result === "reboot") {
          p.stop();
          continue;
        }
        break;
      }
    } finally {
      clearInterval(ticker);
      drain();
      if (partial) p.log("   board | " + partial);
      p.stop();
    }

    const main = (v: string) => seen.findIndex((l) => l.startsWith(`demo ${v}: hello from ${v}`));
    const ok = result === "idle" && board.reboots >= 1 && main(VERSIONS[1]) >= 0 && seen.findIndex((l) => l.startsWith(`demo ${VERSIONS[0]}: boot`)) < main(VERSIONS[1]);
    say(`5. the board ${ok ? "now runs" : "did NOT reach"} ${VERSIONS[1]} (${board.reboots} reset(s), ${board.httpStats.requests} HTTP requests, ${board.httpStats.bytesIn} bytes in); Storage:`);
    for (const f of board.flash.files()) say(`   ${JSON.stringify(f.name).padEnd(11)} ${String(f.data.length).padStart(6)} bytes`);
    if (!ok) {
      say(`demo failed: the board ended with "${result}"${board.errors.length ? `, errors: ${board.errors.join("; ")}` : ""}`);
      return 1;
    }
    say(`done: ${rel(path.join(DEMO_DIR, VERSIONS[1]))} is running on the board, fetched from ${server.url}/${PROJECT}/`);
    return 0;
  } finally {
    pb?.stop();
    await server?.close();
    if (opts.keep) say(`server root kept: ${root}`);
    else {
      rmSync(root, { recursive: true, force: true });
      say(`server root ${root} removed (--keep keeps it)`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { keep: { type: "boolean" }, board: { type: "string" } } });
  try {
    process.exitCode = await demo({ keep: values.keep, board: values.board as BoardName | undefined });
  } catch (e: any) {
    console.error(`demo failed: ${e?.stack ?? e}`);
    process.exitCode = 1;
  }
}
