// A board made of the REAL Espruino interpreter (the Linux build, `ESPRUINO_BIN`), as the
// real-interpreter tests and the bench's RAM figures use it. How the build behaves, each
// seen by running it:
//  - its Storage is the file `espruino.flash` (256 KB) in the working directory, so a board
//    is a directory, and a fresh directory is a freshly erased board;
//  - `espruino -e "<code>"` is a start: it runs `.bootPowerOn`, `.boot0`..`.boot3`, then
//    `.bootcde`, then the code; `espruino file.js` runs the boot stages but not `.bootcde`;
//  - `E.reboot()` exits with code 1 some 30-50 ms later (a reboot: start again); SIGKILL is
//    a power cut; the process exits by itself once no timer or socket is left;
//  - it prints a banner, `>` prompts and terminal escapes around what the program prints,
//    and its output reaches the pipe unbuffered (a line printed before a busy loop is
//    seen while the loop runs): device code marks its lines with mark() and we pick them out.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "../tools/lib/digest.ts";

/** The interpreter to run, from the environment only (the repository never names a path of a machine). */
export const ESPRUINO_BIN: string | undefined = process.env.ESPRUINO_BIN || undefined;

/** How to enable the real-interpreter layer, for the messages of whatever did not run. */
export const ENABLE_HINT =
  "set ESPRUINO_BIN to the Linux build of Espruino (.ci/run sets it to ../shared/tools/espruino/espruino when that exists), " +
  "e.g. ESPRUINO_BIN=$(realpath ../shared/tools/espruino/espruino) npm test";

const MARK = "@@";

/** Device code (ES5) defining mark(tag, value): prints one line the harness picks out. */
export const MARK_FN = `function mark(t, v) { print(${JSON.stringify(MARK)} + t + " " + JSON.stringify(v === undefined ? null : v)); }`;

/** A marked line: mark("tag", value) on the device. */
export interface Mark {
  tag: string;
  value: any;
}

export type StartEnd =
  | "idle" // exited by itself with code 0: nothing left to run
  | "reboot" // exit code 1: E.reboot()
  | "stopped" // killed by us because stopWhen said so (a power cut at that point)
  | "cut" // killed by cut(): a power cut
  | "crash"; // any other exit

export interface StartResult {
  end: StartEnd;
  exitCode: number | null;
  output: string; // stdout, banner and prompts included
  stderr: string;
  marks: Mark[];
}

export interface StartOptions {
  /** File mode (`espruino file.js`): the boot stages run, `.bootcde` does not. Default: a start with -e. */
  fileMode?: boolean;
  /** Kill the process (a power cut) once this returns true for a mark. */
  stopWhen?: (m: Mark, marks: Mark[]) => boolean;
  /** Called for each mark as it arrives. */
  onMark?: (m: Mark, board: RealBoard) => void;
  /** Fail when the start runs longer (default 30 s). */
  timeoutMs?: number;
}

function stripTerminal(line: string): string {
  // ESC [ ... letter (the console's erase-line), CR, and the prompt in front of output
  return line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
}

function parseMark(line: string): Mark | undefined {
  const at = line.indexOf(MARK);
  if (at < 0) return undefined;
  const rest = line.slice(at + MARK.length);
  const sp = rest.indexOf(" ");
  const tag = sp < 0 ? rest : rest.slice(0, sp);
  const text = sp < 0 ? "" : rest.slice(sp + 1);
  let value: any = text;
  try {
    value = text === "" ? null : JSON.parse(text);
  } catch {
    // a line that is not JSON stays text
  }
  return { tag, value };
}

/** A board: a working directory whose espruino.flash is its Storage. */
export class RealBoard {
  readonly dir: string;
  readonly bin: string;
  /** Every start so far, in order. */
  readonly starts: StartResult[] = [];
  private running: ChildProcess | undefined;
  private cutRequested = false;

  constructor(opts: { bin?: string; dir?: string } = {}) {
    const bin = opts.bin ?? ESPRUINO_BIN;
    if (!bin) throw new Error(`no Espruino interpreter: ${ENABLE_HINT}`);
    if (!existsSync(bin)) throw new Error(`ESPRUINO_BIN=${bin} does not exist: ${ENABLE_HINT}`);
    this.bin = bin;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), "ota-real-board-"));
  }

  /** A second board whose Storage is a copy of this one's now (to branch a power-cut walk). */
  clone(): RealBoard {
    if (this.running) throw new Error("clone() while the board runs: its Storage is changing");
    const b = new RealBoard({ bin: this.bin });
    if (existsSync(join(this.dir, "espruino.flash"))) cpSync(join(this.dir, "espruino.flash"), join(b.dir, "espruino.flash"));
    return b;
  }

  /** The bytes of the board's flash now (empty before anything was written), to tell whether a start wrote any. */
  flashImage(): Buffer {
    const f = join(this.dir, "espruino.flash");
    return existsSync(f) ? readFileSync(f) : Buffer.alloc(0);
  }

  /** Removes the board's directory. */
  dispose(): void {
    this.cut();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * One start of the board. `code` runs after the boot code (with -e), or alone in file
   * mode; either way mark() is defined for it. Resolves when the process ends: by itself,
   * by a reboot (exit code 1), or killed by stopWhen or cut().
   */
  start(code = "", opts: StartOptions = {}): Promise<StartResult> {
    if (this.running) throw new Error("the board is already running");
    const program = `${MARK_FN}\n${code}`;
    let args: string[];
    if (opts.fileMode) {
      const file = join(this.dir, `start-${this.starts.length}.js`);
      writeFileSync(file, program);
      args = [file];
    } else args = ["-e", program];
    const child = spawn(this.bin, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
    this.running = child;
    this.cutRequested = false;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let out = "", err = "", partial = "", stopped = false, timedOut = false;
      const marks: Mark[] = [];
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdout!.on("data", (d: Buffer) => {
        const text = d.toString("latin1");
        out += text;
        partial += text;
        const lines = partial.split("\n");
        partial = lines.pop()!;
        for (const raw of lines) {
          const m = parseMark(stripTerminal(raw));
          if (!m) continue;
          marks.push(m);
          opts.onMark?.(m, this);
          if (!stopped && opts.stopWhen?.(m, marks)) {
            stopped = true;
            child.kill("SIGKILL");
          }
        }
      });
      child.stderr!.on("data", (d: Buffer) => (err += d.toString("latin1")));
      child.once("error", (e) => {
        clearTimeout(timer);
        this.running = undefined;
        reject(e);
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        this.running = undefined;
        if (timedOut) return reject(new Error(`the board in ${this.dir} ran longer than ${timeoutMs} ms; it printed:\n${out.slice(-3000)}\n${err}`));
        const end: StartEnd = stopped ? "stopped" : this.cutRequested ? "cut" : signal ? "crash" : code === 0 ? "idle" : code === 1 ? "reboot" : "crash";
        const r: StartResult = { end, exitCode: code, output: out, stderr: err, marks };
        this.starts.push(r);
        resolve(r);
      });
    });
  }

  /** A power cut now: kills the running process, if any. */
  cut(): void {
    if (!this.running) return;
    this.cutRequested = true;
    this.running.kill("SIGKILL");
  }

  /**
   * Starts the board, and again after each reboot, until a start ends otherwise (idle,
   * stopped, cut) or `maxStarts` is reached. Every start runs `code`. Returns the starts.
   */
  async run(code = "", opts: StartOptions & { maxStarts?: number } = {}): Promise<StartResult[]> {
    const max = opts.maxStarts ?? 5;
    const starts: StartResult[] = [];
    for (;;) {
      const r = await this.start(code, opts);
      starts.push(r);
      if (r.end === "crash") throw new Error(`the interpreter crashed (exit ${r.exitCode}); it printed:\n${r.output.slice(-3000)}\n${r.stderr}`);
      if (r.end !== "reboot") return starts;
      if (starts.length >= max) throw new Error(`still rebooting after ${max} starts; the last printed:\n${r.output.slice(-3000)}`);
    }
  }

  /**
   * Puts files into Storage as a user would, with a script of Storage.write calls in
   * chunks (binary-safe: base64 in the script, atob on the board), then checks each
   * file's length and CRC-32 as read back on the board. The script runs in file mode,
   * so the boot stages in Storage run first (as after any reset); .bootcde does not.
   */
  async store(files: Record<string, string | Buffer>): Promise<void> {
    const CHUNK = 1024;
    const L: string[] = ['var S = require("Storage");'];
    const want: Record<string, [number, number]> = {};
    for (const [name, content] of Object.entries(files)) {
      const data = typeof content == "string" ? Buffer.from(content, "latin1") : content;
      if (!data.length) throw new Error(`Storage cannot hold an empty file (${name})`);
      const n = JSON.stringify(name);
      L.push(`S.erase(${n});`);
      for (let off = 0; off < data.length; off += CHUNK) {
        const b64 = data.subarray(off, off + CHUNK).toString("base64");
        L.push(`S.write(${n}, atob("${b64}"), ${off}, ${data.length});`);
      }
      want[name] = [data.length, crc32(data) >>> 0];
    }
    L.push(`mark("stored", ${JSON.stringify(Object.keys(want))}.map(function (n) { var d = S.read(n); return d === undefined ? null : [d.length, E.CRC32(d) >>> 0]; }));`);
    const r = await this.start(L.join("\n"), { fileMode: true });
    const got = r.marks.find((m) => m.tag == "stored")?.value;
    if (!got) throw new Error(`storing files failed; the board printed:\n${r.output.slice(-3000)}`);
    Object.entries(want).forEach(([name, w], i) => {
      if (!got[i] || got[i][0] !== w[0] || got[i][1] !== w[1]) throw new Error(`${name} did not read back as written: want [length, crc32] ${JSON.stringify(w)}, got ${JSON.stringify(got[i])}`);
    });
  }

  /** The Storage files and their lengths (file mode: the boot stages run first). */
  async list(): Promise<Record<string, number>> {
    const r = await this.start('var S = require("Storage"), o = {}; S.list().forEach(function (f) { o[f] = S.read(f).length; }); mark("list", o);', { fileMode: true });
    const m = r.marks.find((x) => x.tag == "list");
    if (!m) throw new Error(`listing Storage failed; the board printed:\n${r.output.slice(-3000)}`);
    return m.value;
  }
}

/** The first mark with this tag, or an error that shows what the board printed. */
export function markOf(r: StartResult | StartResult[], tag: string): any {
  const starts = Array.isArray(r) ? r : [r];
  for (const s of starts) {
    const m = s.marks.find((x) => x.tag == tag);
    if (m) return m.value;
  }
  throw new Error(`no "${tag}" mark; the board printed:\n${starts.map((s) => s.output.slice(-2000)).join("\n--- next start ---\n")}`);
}

/** Every mark with this tag, across starts. */
export function marksOf(r: StartResult | StartResult[], tag: string): any[] {
  return (Array.isArray(r) ? r : [r]).flatMap((s) => s.marks.filter((x) => x.tag == tag).map((x) => x.value));
}
