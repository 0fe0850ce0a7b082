// What the emulator models of Espruino beyond what the golden probes can show (they run on the
// Linux build): the ESP8266 reset on a Storage.write from a view into Storage, code tied to its
// Storage file on every board, RAM figures it refuses to invent, and its loopback-only network.
import { expect } from 'chai';
import nock from 'nock';
import { Board, type BoardName } from '../emulator/board.ts';
import { bytesWrittenFromSource } from '../emulator/storage.ts';

const lines = (b: Board) => b.output.split('\n').filter((l) => l);

function board(name: BoardName): Board {
  const b = new Board({ board: name });
  b.flash.writeFile('src', 'A'.repeat(600));
  b.flash.writeFile('.bootcde', 'print("start", typeof ESP8266 !== "undefined" ? ESP8266.getResetInfo().reason : "");');
  b.powerOn();
  b.output = '';
  return b;
}

/** Run a write on a board and say whether the chip reset (and the flash after it). */
async function writeOutcome(name: BoardName, code: string) {
  const b = board(name);
  b.exec('var S = require("Storage");');
  b.exec(`setTimeout(function () { ${code}; print("written"); }, 1);`);
  const settled = await b.settle({ timeout: 1000 });
  return { b, settled, reset: b.crashes > 0, dst: b.flash.readFile('dst')?.toString('latin1') };
}

describe('emulator: ESP8266 resets on a Storage.write from a view into Storage (Espruino #1457, #1912)', () => {
  const views: Record<string, string> = {
    'a string from Storage.read': 'S.write("dst", S.read("src"))',
    'a piece of it, written at an offset': 'S.write("dst", "B", 0, 600); S.write("dst", S.read("src", 256, 256), 256)',
    'E.toString of it (the same string, no copy)': 'S.write("dst", E.toString(S.read("src", 0, 256)), 0, 600)',
    'a substr of it': 'S.write("dst", S.read("src").substr(4, 100))',
    'an ArrayBuffer from readArrayBuffer': 'S.write("dst", S.readArrayBuffer("src"))',
    'a typed array on that ArrayBuffer': 'S.write("dst", new Uint8Array(S.readArrayBuffer("src"), 8, 64))',
    'an E.toArrayBuffer round trip': 'S.write("dst", E.toString(new Uint8Array(E.toArrayBuffer(S.read("src")))))',
  };
  for (const name of ['ESP8266_4MB', 'ESP8266_BOARD'] as BoardName[]) {
    for (const [what, code] of Object.entries(views)) {
      it(`${name}: ${what}`, async () => {
        const { b, settled, reset, dst } = await writeOutcome(name, code);
        expect(settled).to.equal('reboot');
        expect(reset).to.equal(true);
        expect(b.log.find((e) => e.type === 'crash')?.detail).to.match(/^Storage\.write\("dst"\) from a view into Storage.*#1457/);
        expect(lines(b)).to.deep.equal(['start exception']); // nothing after the write ran; started again
        expect(b.reboots).to.equal(0); // not an E.reboot()
        // the file was created (its header landed) but the data never did
        expect(dst === undefined || /^B?\xff+$/.test(dst)).to.equal(true);
      });
    }
    it(`${name}: a copy through E.toUint8Array writes, and does not reset`, async () => {
      const { settled, reset, dst } = await writeOutcome(name, 'S.write("dst", E.toUint8Array(S.read("src", 0, 256)), 0, 600)');
      expect(settled).to.equal('idle');
      expect(reset).to.equal(false);
      expect(dst).to.equal('A'.repeat(256) + '\xff'.repeat(344));
    });
    it(`${name}: an identical rewrite from a view is skipped, so it does not reset`, async () => {
      const { settled, reset } = await writeOutcome(name, 'S.write("src", S.read("src"))');
      expect(settled).to.equal('idle');
      expect(reset).to.equal(false);
    });
    it(`${name}: a write that fails first (written bytes) throws, and does not reset`, async () => {
      const { b, reset } = await writeOutcome(name, 'S.write("dst", "xxxxxxxx"); S.write("dst", S.read("src", 0, 4), 2)');
      expect(reset).to.equal(false);
      expect(b.errors[0]).to.equal('Error: File already written with different data');
    });
  }
  it('ESP32 and Linux write from a view (the IDF copies the source; Linux reads its flash file)', async () => {
    for (const name of ['ESP32', 'LINUX'] as BoardName[]) {
      const { settled, reset, dst } = await writeOutcome(name, 'S.write("dst", S.read("src"))');
      expect(settled, name).to.equal('idle');
      expect(reset, name).to.equal(false);
      expect(dst, name).to.equal('A'.repeat(600));
    }
  });
  it('only the words between a misaligned head and tail come from the source (jshFlashWriteAligned)', () => {
    expect(bytesWrittenFromSource(0, 3)).to.equal(0);
    expect(bytesWrittenFromSource(0, 4)).to.equal(4);
    expect(bytesWrittenFromSource(0, 7)).to.equal(4);
    expect(bytesWrittenFromSource(1, 3)).to.equal(0);
    expect(bytesWrittenFromSource(1, 6)).to.equal(0);
    expect(bytesWrittenFromSource(1, 7)).to.equal(4);
    expect(bytesWrittenFromSource(3, 260)).to.equal(256);
  });
});

describe('emulator: code from a Storage file dies with the file (golden probes 46, 48)', () => {
  it('on ESP32 too: the boot file\'s listener and timer throw once .boot0 is rewritten, not before', async () => {
    const b = new Board({ board: 'ESP32' });
    b.flash.writeFile('.boot0', 'global.b0 = function () { return "alive"; }; E.on("ping", function () { print("listener"); }); setTimeout(function () { print("timer"); }, 100);');
    b.powerOn();
    expect(b.exec('b0()')).to.equal('alive');
    b.exec('require("Storage").write(".boot0", require("Storage").read(".boot0"))'); // identical: skipped
    expect(b.exec('b0()')).to.equal('alive');
    b.exec('require("Storage").write(".boot0", "print(1);")');
    expect(() => b.exec('b0()')).to.throw('Function code is null, not a string');
    b.exec('E.emit("ping")');
    expect(await b.settle()).to.equal('idle');
    expect(b.errors).to.deep.equal(['Error: Function code is null, not a string', 'Error: Function code is null, not a string']);
  });
  it('load(file) and require(file) code dies with its file; Modules.addCached code lives in RAM', () => {
    const b = new Board({ board: 'ESP8266_4MB' });
    b.flash.writeFile('m', 'exports.f = function () { return "m"; };');
    b.powerOn();
    b.exec('var m = require("m"); Modules.addCached("r", "exports.f = function () { return \'r\'; };"); var r = require("r");');
    b.exec('require("Storage").write("m", "exports.f = 0;")');
    expect(() => b.exec('m.f()')).to.throw('Function code is null, not a string');
    expect(b.exec('r.f()')).to.equal('r');
    // compaction moves files but the firmware follows them: still alive
    b.flash.writeFile('n', 'exports.g = function () { return "n"; };');
    b.exec('var n = require("n"); require("Storage").compact();');
    expect(b.exec('n.g()')).to.equal('n');
  });
});

describe('emulator: RAM figures are not invented', () => {
  it('E.getSizeOf(), ESP32.getState() and each figure of process.memory() throw and say why', () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    for (const call of ['E.getSizeOf({a: 1})', 'ESP32.getState()', 'process.memory().usage', 'process.memory().free', 'JSON.stringify(process.memory())']) {
      const named = call.startsWith('JSON') ? 'process.memory().free' : call.replace(/\(\{.*\}\)|\(\)$/, '()');
      expect(() => b.exec(call), call).to.throw(`${named} is not emulated: the emulator does not count JsVars`);
    }
  });

  it('process.memory() itself runs, for the garbage collection device code calls it for', () => {
    const b = new Board({ board: 'ESP8266_4MB' });
    b.powerOn();
    expect(b.exec('process.memory(); "collected"')).to.equal('collected');
  });
});

describe('emulator: the network reaches only loopback', () => {
  let nockWasActive = false;
  before(() => { nockWasActive = nock.isActive(); if (nockWasActive) nock.restore(); });
  after(() => { if (nockWasActive && !nock.isActive()) nock.activate(); });

  it('a connection to another address fails as an unreachable host, and the console says why', () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    expect(b.exec('var e; try { require("http").get("http://10.255.255.1:8080/v", function () {}); } catch (x) { e = x; } String(e) + " " + (e instanceof InternalError)'))
      .to.equal('InternalError: Unable to create socket true');
    expect(lines(b)).to.deep.equal(['ERROR: Connect failed (err 113): the emulator connects only to loopback (127.0.0.0/8, ::1); 10.255.255.1 is 10.255.255.1']);
  });
  it('without the synchronous connect (connectCheck off) the request ends with an error event instead', async () => {
    const b = new Board({ board: 'ESP8266_4MB', http: { connectCheck: false } });
    b.powerOn();
    b.exec('var got = []; var req = require("http").get("http://192.168.2.100/v", function () { got.push("response"); }); req.on("error", function (e) { got.push(JSON.stringify(e)); });');
    expect(await b.settle({ timeout: 5000 })).to.equal('idle');
    expect(b.exec('got.join()')).to.equal('{"code":-4,"message":"no route"}');
    expect(lines(b)[0]).to.match(/^ERROR: Connect failed \(err 113\): the emulator connects only to loopback .*192\.168\.2\.100/);
  });
});
