// Differential test against the real interpreter: every probe of
// /work/shared/data/espruino-golden is replayed in the emulator (LINUX board profile) and its
// normalized output must equal the golden file line for line. Probes that do not match yet are
// listed in KNOWN_DIVERGENT with the reason; the test asserts that they STILL differ, so the list
// has to shrink when the emulator gets fixed.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { Board } from '../emulator/board.ts';
import { startGoldenServer, ROUTES, type GoldenServer } from '../harness/golden-server.ts';

const DIR = process.env.ESPRUINO_GOLDEN_DIR ?? '/work/shared/data/espruino-golden';

/** Probe id -> why the emulator does not reproduce it (yet). */
export const KNOWN_DIVERGENT: Record<string, string> = {
  '39-lang-errors':
    'language probe: Espruino has no hoisting (ReferenceError text) and TypeError is not instanceof Error; the emulator runs V8 semantics',
  '40-lang-let-loop': 'language probe: Espruino does not bind `let` per for-loop iteration ([3,3,3]); V8 gives [0,1,2]',
  '44-lang-builtins': 'language probe: builtin differences (JSON.stringify(undefined), typeof Map/Set/Symbol, …) between Espruino and V8',
  '45-uncaught-error':
    'language probe: the Linux runner prints a source excerpt ("at [raw] (:4:23)", a caret line) and an extra "Uncaught undefined" line',
};

interface ProbeMeta {
  mode: 'file' | 'eval';
  setup?: string;
  timeoutMs: number;
  category: string;
  notes?: string;
}

const available = fs.existsSync(path.join(DIR, 'probes'));
const ids = available
  ? fs
      .readdirSync(path.join(DIR, 'probes'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.slice(0, -3))
      .sort()
  : [];

const meta = (id: string): ProbeMeta => JSON.parse(fs.readFileSync(path.join(DIR, 'probes', id + '.json'), 'utf8'));
const source = (id: string, port: number): string =>
  fs.readFileSync(path.join(DIR, 'probes', id + '.js'), 'utf8').replaceAll('__PORT__', String(port));

/** The README's normalization, for what an emulator prints (no banner, no prompt). */
export function normalize(raw: string, port: number, exit: number | 'timeout'): string {
  let s = raw.replace(/\r/g, '');
  s = s.replace(/>\x1b\[J/g, '').replace(/\x1b\[J/g, '');
  s = s.replace(/\x08[/\-\\|]/g, '');
  s = s.replace(new RegExp(`\\b${port}\\b`, 'g'), '__PORT__');
  const lines = s
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''))
    .filter((l) => l.length > 0);
  lines.push(`exit: ${exit}`);
  return lines.join('\n') + '\n';
}

/**
 * Run one probe on `board` in its mode. Returns the exit code the Linux build would give:
 * 1 when the top-level code throws (the process exits at once, timers never run) or when
 * E.reboot() is called ("Not implemented"), 'timeout' if it does not settle in time, else 0.
 */
async function runOnBoard(board: Board, id: string, port: number): Promise<number | 'timeout'> {
  const m = meta(id);
  const code = source(id, port);
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

/** Replay a probe (and its setup probe, on the same flash) and return the normalized output. */
export async function replay(id: string, port: number): Promise<string> {
  const board = new Board({ board: 'LINUX', http: { connectCheck: true }, autoReboot: false });
  try {
    const m = meta(id);
    if (m.setup) await runOnBoard(board, m.setup, port);
    const start = board.output.length;
    const exit = await runOnBoard(board, id, port);
    return normalize(board.output.slice(start), port, exit);
  } finally {
    board.powerOff(); // kills the context: timers, sockets
  }
}

describe('golden probes replayed in the emulator (LINUX)', function () {
  this.timeout(30000);
  // The probes come from ../shared beside the checkout (CI lays it there too): without
  // them the emulator's fidelity is unproven, so that is a failure, not a skip.
  it('finds the 45 recorded probes', () => {
    expect(available, `no golden probes at ${DIR}`).to.equal(true);
    expect(ids).to.have.length(45);
  });
  let srv: GoldenServer;
  let nockWasActive = false;

  before(async () => {
    // nock (imported by other test files) intercepts every request and cannot pass through
    // Espruino's literal "undefined" method (probe 24).
    nockWasActive = nock.isActive();
    if (nockWasActive) nock.restore();
    srv = await startGoldenServer();
  });
  after(async () => {
    await srv?.close();
    if (nockWasActive && !nock.isActive()) nock.activate();
  });

  it('the loopback server implements server.json', () => {
    const spec = JSON.parse(fs.readFileSync(path.join(DIR, 'server.json'), 'utf8'));
    expect(JSON.parse(JSON.stringify(ROUTES))).to.deep.equal(spec.routes);
  });

  it('KNOWN_DIVERGENT names only existing probes', () => {
    for (const id of Object.keys(KNOWN_DIVERGENT)) expect(ids, id).to.include(id);
  });

  for (const id of ids) {
    const reason = KNOWN_DIVERGENT[id];
    it(reason ? `${id} (known divergent: still differs)` : id, async () => {
      const golden = fs.readFileSync(path.join(DIR, 'golden', id + '.txt'), 'utf8');
      const got = await replay(id, srv.port);
      if (reason) expect(got, `${id} now matches: remove it from KNOWN_DIVERGENT`).to.not.equal(golden);
      else expect(got.split('\n')).to.deep.equal(golden.split('\n'));
    });
  }
});
