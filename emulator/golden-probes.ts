/**
 * The golden probes (emulator/golden/): short programs recorded on the real Espruino
 * interpreter (scripts/record-golden.ts) and replayed in the emulator (test/golden.test.ts).
 * This module holds what both sides share: where the data is, the probe metadata, the
 * normalization of a console stream, and how a probe runs in the emulator.
 * emulator/golden/README.md describes the data and how to record it again.
 */

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Board } from './board.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
export const PROBES_DIR = path.join(GOLDEN_DIR, 'probes');
export const OUTPUTS_DIR = path.join(GOLDEN_DIR, 'golden');
/** `{ "VERSION": "<process.env.VERSION of the recording interpreter>" }` */
export const RECORDED_FILE = path.join(GOLDEN_DIR, 'recorded.json');

/** The token in probe sources that stands for the loopback server's port. */
export const PORT_TOKEN = '__PORT__';

export interface ProbeMeta {
  /** `file`: `espruino probe.js`; `eval`: `espruino -e "<probe text>"` */
  mode: 'file' | 'eval';
  /** a probe run first in the same working directory (same Storage) */
  setup?: string;
  timeoutMs: number;
  category: 'storage' | 'http' | 'boot' | 'e-crypto' | 'language' | 'events' | 'json';
  notes?: string;
}

export type ExitCode = number | 'timeout';

export function probeIds(): string[] {
  return fs.readdirSync(PROBES_DIR).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
}

export const probeMeta = (id: string): ProbeMeta =>
  JSON.parse(fs.readFileSync(path.join(PROBES_DIR, id + '.json'), 'utf8')) as ProbeMeta;

export const probeSource = (id: string, port: number): string =>
  fs.readFileSync(path.join(PROBES_DIR, id + '.js'), 'utf8').replaceAll(PORT_TOKEN, String(port));

export const goldenOutput = (id: string): string => fs.readFileSync(path.join(OUTPUTS_DIR, id + '.txt'), 'utf8');

export const recordedVersion = (): string =>
  (JSON.parse(fs.readFileSync(RECORDED_FILE, 'utf8')) as { VERSION: string }).VERSION;

const BANNER_START = /^ ____ /;
const BANNER_END = 'http://espruino.com/Donate';

/**
 * The normalization of README.md, for a console stream (the interpreter's stdout and stderr
 * as one Latin-1 string, or what an emulated board printed), then `exit: <code>`.
 */
export function normalize(raw: string, port: number, exit: ExitCode): string {
  let s = raw.replace(/\r/g, '');
  s = s.replace(/>\x1b\[J/g, '').replace(/\x1b\[J/g, '');
  s = s.replace(/\x08[/\-\\|]/g, '');
  s = s.replace(/>$/, ''); // the single prompt left at the very end
  const lines = s.split('\n');
  // the start-up banner, wherever it appears (load() prints it again)
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (BANNER_START.test(lines[i])) {
      const end = lines.indexOf(BANNER_END, i);
      if (end >= 0) { i = end; continue; }
    }
    kept.push(lines[i]);
  }
  const port$ = new RegExp(`\\b${port}\\b`, 'g');
  const out = kept
    .map((l) => l.replace(port$, PORT_TOKEN).replace(/[ \t]+$/, ''))
    .filter((l) => l.length > 0);
  out.push(`exit: ${exit}`);
  return out.join('\n') + '\n';
}

/**
 * Run one probe on `board` in its mode. Returns the exit code the Linux build would give:
 * 1 when the top-level code throws (the process exits at once, timers never run) or when
 * E.reboot() is called ("Not implemented"), 'timeout' if it does not settle in time, else 0.
 */
async function runOnBoard(board: Board, id: string, port: number): Promise<ExitCode> {
  const m = probeMeta(id);
  const code = probeSource(id, port);
  let ok: boolean;
  if (m.mode === 'file') {
    const before = board.errors.length;
    board.runFile(code, id + '.js');
    ok = board.errors.length === before;
  } else {
    board.powerOn();
    ok = board.evalScript(code, 'eval');
  }
  if (!ok) return 1;
  const r = await board.settle({ timeout: m.timeoutMs, wallTimeout: m.timeoutMs + 5000 });
  if (r === 'reboot') return 1;
  if (r === 'timeout') return 'timeout';
  return 0;
}

/** Replay a probe (after its setup probe, on the same flash) in the emulator's LINUX board; its normalized output. */
export async function replay(id: string, port: number): Promise<string> {
  const board = new Board({ board: 'LINUX', http: { connectCheck: true }, autoReboot: false });
  try {
    const m = probeMeta(id);
    if (m.setup) await runOnBoard(board, m.setup, port);
    const start = board.output.length;
    const exit = await runOnBoard(board, id, port);
    return normalize(board.output.slice(start), port, exit);
  } finally {
    board.powerOff(); // kills the context: timers, sockets
  }
}
