// The emulated board: boot order, load(), E.reboot, timers, power cuts, Espruino's globals.
import { expect } from 'chai';
import { Board } from '../emulator/board.ts';

const lines = (b: Board) => b.output.split('\n').filter((l) => l);

function bootBoard(board: 'LINUX' | 'ESP32' | 'ESP8266_4MB' | 'ESP8266_BOARD' = 'ESP32') {
  const b = new Board({ board });
  b.flash.writeFile('.boot1', 'print("boot1"); var fromBoot1 = 1;');
  b.flash.writeFile('.boot0', 'print("boot0");');
  b.flash.writeFile('.boot4', 'print("boot4 (never)");');
  b.flash.writeFile('.bootcde', 'print("bootcde", typeof fromBoot1);');
  return b;
}

describe('emulator board: boot', () => {
  it('power-on runs .boot0-3 in name order, then .bootcde, then init handlers', () => {
    const b = bootBoard();
    b.flash.writeFile('.boot3', 'E.on("init", function () { print("init"); }); function onInit() { print("onInit"); }');
    b.powerOn();
    expect(lines(b)).to.deep.equal(['boot0', 'boot1', 'bootcde number', 'init', 'onInit']);
    expect(b.boots).to.equal(1);
  });

  it('.bootrst replaces .bootcde; file mode runs .bootrst but never .bootcde', () => {
    const b = bootBoard();
    b.flash.writeFile('.bootrst', 'print("bootrst");');
    b.powerOn();
    expect(lines(b)).to.deep.equal(['boot0', 'boot1', 'bootrst']);
    const c = bootBoard();
    c.runFile('print("main", typeof fromBoot1);');
    expect(lines(c)).to.deep.equal(['boot0', 'boot1', 'main number']);
  });

  it('load(file) is deferred, resets timers and globals, runs boot code then the file (probe 38)', async () => {
    const b = new Board({ board: 'LINUX' });
    b.runFile(`var S = require("Storage");
      S.write(".boot0", 'print("boot0 ran");');
      S.write("app.js", 'print("app.js ran; __FILE__", __FILE__, "typeof before", typeof before);');
      var before = 1;
      setTimeout(function () { print("timer (never)"); }, 50);
      print("calling load"); load("app.js"); print("after load() call");`);
    expect(await b.settle()).to.equal('idle');
    expect(lines(b)).to.deep.equal(['calling load', 'after load() call', 'boot0 ran', 'app.js ran; __FILE__ app.js typeof before undefined']);
  });

  it('require() evaluates a Storage file as a cached module', () => {
    const b = new Board({ board: 'ESP32' });
    b.flash.writeFile('m', 'var n = 0; exports.inc = function () { return ++n; }; print("loaded");');
    b.powerOn();
    expect(b.exec('require("m").inc() + require("m").inc()')).to.equal(3);
    expect(b.exec('typeof n')).to.equal('undefined'); // module scope, not global
    b.exec('Modules.removeCached("m")');
    expect(b.exec('require("m").inc()')).to.equal(1);
    expect(lines(b)).to.deep.equal(['loaded', 'loaded']);
    expect(() => b.exec('require("nope")')).to.throw('Module nope not found');
  });
});

describe('emulator board: event loop, reboot, power', () => {
  it('runs timers on the board clock (time warp) and reports idle', async () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    const t0 = Date.now();
    b.exec('var t = Date.now(); setTimeout(function () { print("late", Date.now() - t >= 30000); }, 30000); setTimeout(function () { print("early"); }, 10);');
    expect(await b.settle()).to.equal('idle');
    expect(Date.now() - t0).to.be.lessThan(2000);
    expect(lines(b)).to.deep.equal(['early', 'late true']);
  });

  it('keeps its clock still while code runs with no socket open: a slow host changes no pass', async () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    // the event is queued before the timer is due; burning host time (never reading the clock)
    // must not make the 5 ms timer due in the event's pass (a loaded CI host did, golden probe 46)
    const t0 = performance.now();
    b.exec('var o = {}; o.on("e", function () { print("event"); }); setTimeout(function () { print("timer"); }, 5); o.emit("e");' +
      'for (var i = 0; i < 2e5; i++);');
    expect(performance.now() - t0, 'host time the code burnt').to.be.above(10);
    expect(await b.settle()).to.equal('idle');
    expect(lines(b)).to.deep.equal(['event', 'timer']);
  });

  it('a busy wait on getTime() ends without a socket open', async () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    b.exec('var t = getTime(); while (getTime() - t < 0.2); print("waited", getTime() - t >= 0.2);');
    expect(lines(b)).to.deep.equal(['waited true']);
  });

  it('E.reboot() unwinds, drops timers, runs kill handlers and powers on again', async () => {
    const b = new Board({ board: 'ESP32' });
    b.flash.writeFile('.bootcde', 'print("boot"); if (!require("Storage").read("once")) { require("Storage").write("once", "1"); E.on("kill", function () { print("kill"); }); setTimeout(function () { print("never"); }, 500); setTimeout(function () { E.reboot(); print("after reboot (never)"); }, 10); }');
    b.powerOn();
    expect(await b.settle()).to.equal('reboot');
    expect(b.boots).to.equal(2); // already booted again
    expect(await b.settle()).to.equal('idle');
    expect(lines(b)).to.deep.equal(['boot', 'kill', 'boot']);
  });

  it('run() goes through reboots until idle; LINUX prints "Not implemented" first (probe 37)', async () => {
    const b = new Board({ board: 'LINUX' });
    b.flash.writeFile('.bootcde', 'var S = require("Storage"); var n = (S.readJSON("n", 1) || 0) + 1; S.writeJSON("n", n); print("boot", n); if (n < 3) E.reboot();');
    b.powerOn();
    expect(await b.run()).to.equal('idle');
    expect(lines(b)).to.deep.equal(['boot 1', 'Not implemented', 'boot 2', 'Not implemented', 'boot 3']);
    expect(b.reboots).to.equal(2);
  });

  it('without autoReboot the board stays off after E.reboot()', async () => {
    const b = new Board({ board: 'ESP32', autoReboot: false });
    b.powerOn();
    b.exec('setTimeout(function () { E.reboot(); }, 5)');
    expect(await b.settle()).to.equal('reboot');
    expect(b.isOn).to.equal(false);
    expect(b.boots).to.equal(1);
  });

  it('a power cut stops everything, even code that catches it, until powerOn()', async () => {
    const b = new Board({ board: 'ESP32' });
    b.flash.writeFile('.bootcde', 'setTimeout(function () { try { require("Storage").write("f", "abcdefgh"); } catch (e) { print("caught (never printed)"); } }, 10); setInterval(function () { print("tick"); }, 1000);');
    b.cutPower(2, true); // op 1: header of "f", op 2: its data, cut half way
    b.powerOn();
    expect(await b.settle()).to.equal('powercut');
    expect(b.dead).to.equal(true);
    expect(b.output).to.equal('');
    expect(b.flash.read('f')).to.equal('abcd\xff\xff\xff\xff');
    b.powerOn();
    expect(b.dead).to.equal(false);
    expect(await b.settle({ timeout: 1500 })).to.equal('timeout');
    expect(lines(b)).to.deep.equal(['tick']);
  });

  it('prints uncaught errors in callbacks and keeps going', async () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    b.exec('setTimeout(function () { throw new Error("boom"); }, 1); setTimeout(function () { print("still alive"); }, 2);');
    expect(await b.settle()).to.equal('idle');
    expect(lines(b)).to.deep.equal(['Uncaught Error: boom', 'still alive']);
    expect(b.errors).to.deep.equal(['Error: boom']);
  });

  it('clearTimeout() clears every timer, clearTimeout(undefined) throws, an unknown id is ignored (golden probe 51)', async () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    b.exec('setTimeout(function () { print("a"); }, 5); setInterval(function () { print("b"); }, 5); clearTimeout();');
    expect(await b.settle()).to.equal('idle');
    expect(b.output).to.equal('');
    expect(() => b.exec('var u; clearTimeout(u)')).to.throw('clearTimeout(undefined) not allowed. Use clearTimeout() instead');
    expect(() => b.exec('clearInterval(undefined)')).to.throw('clearInterval(undefined) not allowed');
    expect(b.exec('clearTimeout(42)')).to.equal(undefined);
  });
});

describe('emulator board: globals', () => {
  it('lacks what Espruino lacks', () => {
    const b = new Board({ board: 'ESP32' });
    b.powerOn();
    expect(b.exec('[typeof Map, typeof Set, typeof Symbol, typeof Proxy, typeof Reflect, typeof Buffer, typeof Array.from, typeof Promise.prototype.finally, typeof Object.freeze, typeof Math.trunc, typeof Number.isInteger].join()'))
      .to.equal('undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined');
    expect(b.exec('typeof process.nextTick + typeof setImmediate + typeof queueMicrotask')).to.equal('undefinedundefinedundefined');
    expect(() => b.exec('async function f() {}')).to.throw('async functions are not supported');
    expect(() => b.exec('var a = [1]; var b = [...a];')).to.throw('spread');
    expect(b.exec('/^\\.ota|txt/.test("x.txt")')).to.equal(false); // Espruino's ^ quirk (probe 11)
  });

  it('has on/emit on every object (emit queued, listeners in "#on<event>"), process.env from the board profile, btoa/atob on binary strings', async () => {
    const b = new Board({ board: 'ESP8266_4MB', serial: 'abc123' });
    b.powerOn();
    expect(b.exec('var o = {}, got = []; o.on("x", function (v) { got.push(v); }); o.emit("x", 1); o.emit("x", 2); JSON.stringify(got) + JSON.stringify(Object.keys(o))')).to.equal('[]["#onx"]');
    expect(await b.settle()).to.equal('idle');
    expect(b.exec('JSON.stringify(got)')).to.equal('[1,2]');
    expect(b.exec('process.env.BOARD + " " + process.env.VERSION + " " + process.env.STORAGE + " " + getSerial()')).to.equal('ESP8266_4MB 2v29.277 196608 abc123');
    expect(b.exec('btoa("\\x00\\x01\\x02\\xFF\\xFE\\x80\\x7F\\n\\r\\x00")')).to.equal('AAEC//6AfwoNAA==');
    expect(b.exec('atob("YQ")')).to.equal('a');
  });

  it('crypto follows the profile: SHA1 only on ESP8266_4MB, none on ESP8266_BOARD', () => {
    const hex = 'var h = function (ab) { return Array.prototype.map.call(new Uint8Array(ab), function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join(""); };';
    const esp32 = new Board({ board: 'ESP32' });
    esp32.powerOn();
    esp32.exec(hex);
    expect(esp32.exec('h(require("crypto").SHA256("abc"))')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(esp32.exec('require("crypto").SHA1("abc") instanceof ArrayBuffer')).to.equal(true);
    const small = new Board({ board: 'ESP8266_4MB' });
    small.powerOn();
    expect(small.exec('typeof require("crypto").SHA1 + " " + typeof require("crypto").SHA256')).to.equal('function undefined');
    const tiny = new Board({ board: 'ESP8266_BOARD' });
    tiny.powerOn();
    expect(() => tiny.exec('require("crypto")')).to.throw('Module crypto not found');
    expect(tiny.exec('E.CRC32("123456789")')).to.equal(0xcbf43926);
  });

  it('Storage in the device realm: errors, readJSON/writeJSON dialects, getStats', () => {
    const b = new Board({ board: 'LINUX' });
    b.powerOn();
    expect(b.exec('try { require("Storage").write("x", "a", 3); } catch (e) { String(e) + " " + (e instanceof Error); }'))
      .to.equal('Error: Unable to find or create file true');
    b.exec('require("Storage").writeJSON("j", {a: 1, "f g": [true, null], h: "q\\"\\\\"})');
    expect(b.flash.read('j')).to.equal('{a:1,"f g":[true,null],h:"q\\"\\\\"}');
    expect(b.exec('JSON.stringify(require("Storage").readJSON("j"))')).to.equal('{"a":1,"f g":[true,null],"h":"q\\"\\\\"}');
    b.flash.writeFile('bad', '{not json');
    expect(b.exec('try { require("Storage").readJSON("bad") } catch (e) { String(e) }')).to.equal("SyntaxError: Got ID:json expected ':'");
    expect(b.exec('JSON.stringify(Object.keys(require("Storage").getStats()))')).to.equal('["totalBytes","freeBytes","fileBytes","fileCount","trashBytes","trashCount"]');
  });
});
