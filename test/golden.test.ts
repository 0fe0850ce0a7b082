// Differential test against the real interpreter: every probe of emulator/golden (recorded on
// the real Espruino by scripts/record-golden.ts) is replayed in the emulator (LINUX board
// profile), and its normalized output must equal the recorded one line for line. Probes the
// emulator cannot reproduce are listed in KNOWN_DIVERGENT with the reason; the test asserts
// that they STILL differ, so the list has to shrink when the emulator gets fixed.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { loadProfile } from '../emulator/board.ts';
import { goldenOutput, GOLDEN_DIR, probeIds, probeMeta, recordedVersion, replay } from '../emulator/golden-probes.ts';
import { startGoldenServer, ROUTES, type GoldenServer } from '../harness/golden-server.ts';

/** Probe id -> why the emulator does not reproduce it. */
export const KNOWN_DIVERGENT: Record<string, string> = {
  '39-lang-errors':
    'language probe: Espruino has no hoisting (ReferenceError text) and TypeError is not instanceof Error; the emulator runs V8 semantics',
  '40-lang-let-loop': 'language probe: Espruino does not bind `let` per for-loop iteration ([3,3,3]); V8 gives [0,1,2]',
  '45-uncaught-error':
    'language probe: the Linux runner prints a source excerpt ("at [raw] (:4:23)", a caret line) and an extra "Uncaught undefined" line',
  '49-storage-read-views':
    'a V8 string is an immutable primitive: a string from Storage.read cannot show a later write at an offset, nor read null once its file is gone (emulator/storage-views.ts)',
  '60-json-duplicate-keys':
    'V8 objects cannot hold two properties of one name: JSON.parse/readJSON keep the first value (reads agree, probe 59), but JSON.stringify and for-in show one',
  '65-http-duplicate-headers-json':
    'V8 objects cannot hold two properties of one name: res.headers keeps the first value of a repeated header (reads agree, probe 64), but JSON.stringify and for-in show one',
};

const ids = probeIds();

describe('golden probes replayed in the emulator (LINUX)', function () {
  this.timeout(30000);
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

  it('every probe has its metadata and a recorded output', () => {
    expect(ids.length).to.be.at.least(66);
    for (const id of ids) {
      const m = probeMeta(id);
      expect(['file', 'eval'], id).to.include(m.mode);
      if (m.setup) expect(ids, `${id}: setup`).to.include(m.setup);
      expect(goldenOutput(id), id).to.match(/exit: (\d+|timeout)\n$/);
    }
  });

  it('was recorded with the interpreter version the LINUX profile emulates (the User-Agent probes depend on it)', () => {
    expect(recordedVersion()).to.equal(loadProfile('LINUX').info.binary_version);
  });

  it('the loopback server implements server.json', () => {
    const spec = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'server.json'), 'utf8'));
    expect(JSON.parse(JSON.stringify(ROUTES))).to.deep.equal(spec.routes);
  });

  it('KNOWN_DIVERGENT names only existing probes', () => {
    for (const id of Object.keys(KNOWN_DIVERGENT)) expect(ids, id).to.include(id);
  });

  for (const id of ids) {
    const reason = KNOWN_DIVERGENT[id];
    it(reason ? `${id} (known divergent: still differs)` : id, async () => {
      const golden = goldenOutput(id);
      const got = await replay(id, srv.port);
      if (reason) expect(got, `${id} now matches: remove it from KNOWN_DIVERGENT`).to.not.equal(golden);
      else expect(got.split('\n')).to.deep.equal(golden.split('\n'));
    });
  }
});
