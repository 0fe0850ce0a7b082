// npm run record-golden [-- [--runs N] [probe ids...]]
//
// Records the golden probes (emulator/golden/probes) on the real Espruino interpreter given by
// ESPRUINO_BIN, as emulator/golden/README.md describes: the loopback server of server.json,
// a fresh empty working directory per probe (Storage is a file there), the setup probe first
// in the same directory, the probe text with __PORT__ replaced, stdin /dev/null, stdout and
// stderr as one stream, the normalization, then `exit: <code>`. Writes golden/<id>.txt and
// recorded.json (the interpreter's process.env.VERSION).
//
// --runs N runs every probe N times (fresh directories, the same server) and fails on a probe
// whose outputs differ, so a timing-dependent probe is caught before it is committed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  normalize, OUTPUTS_DIR, probeIds, probeMeta, probeSource, RECORDED_FILE, type ExitCode, type ProbeMeta,
} from '../emulator/golden-probes.ts';
import { startGoldenServer } from '../harness/golden-server.ts';

interface RunResult { output: string; exit: ExitCode }

/** One interpreter run in `cwd`: stdout and stderr into one file, so their order is kept. */
function runInterpreter(bin: string, cwd: string, meta: ProbeMeta, code: string, scriptDir: string, id: string): Promise<RunResult> {
  let args: string[];
  if (meta.mode === 'file') {
    const script = path.join(scriptDir, id + '.js'); // outside the working directory
    fs.writeFileSync(script, code, 'latin1');
    args = [script];
  } else {
    args = ['-e', code];
  }
  const outFile = path.join(scriptDir, id + '.out');
  const fd = fs.openSync(outFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['ignore', fd, fd] });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, meta.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); fs.closeSync(fd); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.closeSync(fd);
      resolve({ output: fs.readFileSync(outFile).toString('latin1'), exit: timedOut ? 'timeout' : (code ?? 1) });
    });
  });
}

/** A probe in a fresh working directory, after its setup probe; its normalized output. */
async function recordProbe(bin: string, id: string, port: number): Promise<string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-work-'));
  const scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-src-'));
  try {
    const meta = probeMeta(id);
    if (meta.setup) await runInterpreter(bin, work, probeMeta(meta.setup), probeSource(meta.setup, port), scripts, meta.setup);
    const r = await runInterpreter(bin, work, meta, probeSource(id, port), scripts, id);
    return normalize(r.output, port, r.exit);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(scripts, { recursive: true, force: true });
  }
}

/** process.env.VERSION of the interpreter. */
async function interpreterVersion(bin: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-version-'));
  try {
    const meta: ProbeMeta = { mode: 'eval', timeoutMs: 5000, category: 'language' };
    const r = await runInterpreter(bin, dir, meta, 'print("@@VERSION " + process.env.VERSION)', dir, 'version');
    const m = /@@VERSION (\S+)/.exec(r.output);
    if (!m) throw new Error(`${bin} did not print its version:\n${r.output}`);
    return m[1];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '1' } }, allowPositionals: true });
  const bin = process.env.ESPRUINO_BIN;
  if (!bin) {
    console.error('record-golden: set ESPRUINO_BIN to the real Espruino interpreter (a Linux build), e.g. ESPRUINO_BIN=/path/to/espruino npm run record-golden');
    process.exit(2);
  }
  const runs = Number(values.runs);
  if (!(runs >= 1)) {
    console.error('record-golden: --runs must be a number >= 1');
    process.exit(2);
  }
  const all = probeIds();
  const unknown = positionals.filter((p) => !all.includes(p));
  if (unknown.length) {
    console.error(`record-golden: no such probe: ${unknown.join(', ')} (probes are emulator/golden/probes/<id>.js)`);
    process.exit(2);
  }
  const ids = positionals.length ? positionals : all;
  const version = await interpreterVersion(bin);
  const server = await startGoldenServer();
  const unstable: string[] = [];
  try {
    for (const id of ids) {
      const outputs = new Set<string>();
      let output = '';
      for (let i = 0; i < runs; i++) outputs.add((output = await recordProbe(bin, id, server.port)));
      if (outputs.size > 1) {
        unstable.push(id);
        console.error(`${id}: ${outputs.size} different outputs:\n${[...outputs].join('-----\n')}`);
        continue;
      }
      fs.writeFileSync(path.join(OUTPUTS_DIR, id + '.txt'), output, 'latin1');
      console.error(`recorded ${id}`);
    }
  } finally {
    await server.close();
  }
  fs.writeFileSync(RECORDED_FILE, JSON.stringify({ VERSION: version }, null, 2) + '\n');
  if (unstable.length) {
    console.error(`record-golden: output differs between runs (not written): ${unstable.join(', ')}`);
    process.exit(1);
  }
  console.error(`record-golden: ${ids.length} probes recorded with Espruino ${version}`);
}

await main();
