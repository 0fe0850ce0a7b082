/**
 * An Espruino board on Node: device JS runs in a `vm` context that exposes only Espruino's
 * globals, on top of a persistent `Flash` that survives reboots and power cuts.
 *
 * Lifecycle
 * - `powerOn()` = cold boot / E.reboot(): fresh context, `.bootPowerOn`, `.boot0`…`.boot3`,
 *   then `.bootrst` if it exists else `.bootcde`, then E.on('init') handlers and onInit().
 * - `runFile(code)` = `espruino file.js`: fresh context, `.boot0`…`.boot3` and `.bootrst`, then code.
 * - Nothing runs by itself: `settle()` drives the event loop (timers, I/O callbacks, deferred
 *   load()/reset()) until the first of: idle, E.reboot(), power cut, timeout. With `autoReboot`
 *   (default) the board has already booted again when settle returns 'reboot'; `run()` loops
 *   settle() through reboots until something else happens.
 *
 * Time: the board has its own clock (Date, getTime, timers). While no socket is open, the clock
 * jumps straight to the next timer ("time warp"), so a 30 s timeout costs nothing in a test;
 * with sockets open it follows real time. Disable with `timeWarp: false`.
 *
 * HTTP wiring: `http.ts` exports `createHttp(host: HttpHost)` and owns the `HttpHost` interface
 * (chunkSize, defer, hold, print, makeEmitter, stats, connectCheck, newObject, newError, version,
 * listenerCount?, uncaught?, newNamedError?, connectTimeoutMs?). One http instance per JS context.
 * The board's host also carries `onDispose(fn)` (called when the context dies: reboot, power cut,
 * load, reset; the place to destroy sockets), `alive()` and `tls`, which http.ts may use.
 * Everything queued through `defer` by a dead context is dropped, and its holds are released.
 */

import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { createHash, randomInt } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { Flash, PowerCut, StorageError, type FlashOp } from './flash-memory.ts';
import { parseLiberal, stringifyCompact } from './json.ts';
import { bytesToLatin1, crc32, errorText, flatBytes, formatValue, isArrayBuffer, isView, iterateBytes, latin1, toBytes } from './values.ts';
import { prepareCode } from './syntax.ts';
import { createHttp, urlParse, type HttpHost } from './http.ts';

export { Flash, PowerCut };

// ------------------------------------------------------------------ types

export type BoardName = 'ESP32' | 'ESP8266_4MB' | 'ESP8266_BOARD' | 'LINUX';

export interface BoardProfile {
  info: { name: string; binary_version: string; builtin_modules: string[]; variables: number };
  chip: { part: string; family: string; saved_code: { page_size: number; pages: number } };
  ota: {
    board: string; storageBytes: number; pageSize: number; httpChunk: number;
    hashes: string[]; crypto: boolean; tls: boolean; variables: number; varBytes: number;
    [k: string]: unknown;
  };
}

export interface HttpStats { requests: number; bytesOut: number; bytesIn: number }

/** What the board gives http.ts: its HttpHost plus lifecycle hooks. */
export interface BoardHttpHost extends HttpHost {
  onDispose(fn: () => void): void;
  alive(): boolean;
  tls: boolean;
}

/** Bench instrumentation (default off): sees what crosses the Storage and http APIs of device code. */
export interface BoardProbe {
  read?(name: string, value: string | undefined): void;
  write?(name: string, data: unknown): void;
  httpData?(chunk: string): void;
}

export interface HttpOptions { connectCheck?: boolean }

export interface BoardOptions {
  board: BoardName;
  flash?: Flash;
  http?: HttpOptions;
  /** power on again by itself after E.reboot() (default true) */
  autoReboot?: boolean;
  /** getSerial() value */
  serial?: string;
  /** jump the clock to the next timer while no socket is open (default true) */
  timeWarp?: boolean;
  /** also write console output to process.stdout (debugging) */
  echo?: boolean;
  /**
   * Espruino fidelity for code loaded on the board (default true): reject syntax Espruino lacks
   * (async, spread, destructuring…) and apply its regex `^`-over-alternation quirk to literals.
   */
  strictSyntax?: boolean;
}

export type SettleResult = 'idle' | 'reboot' | 'powercut' | 'timeout';

export interface SettleOptions {
  /** board-clock ms (default 600000) */
  timeout?: number;
  /** real ms guard against hangs (default 15000) */
  wallTimeout?: number;
}

export interface RunOptions extends SettleOptions {
  /** stop with 'reboot' after this many reboots (default 20) */
  maxReboots?: number;
}

export type BoardEventType = 'powerOn' | 'runFile' | 'reboot' | 'powercut' | 'load' | 'reset' | 'uncaught' | 'compact';
export interface BoardEvent { t: number; type: BoardEventType; detail?: string }

type BootMode = 'power' | 'file' | 'load' | 'reset';

/** Unwinds device code after E.reboot(); never visible as a normal exception. */
class RebootSignal extends Error {
  constructor() { super('E.reboot()'); this.name = 'RebootSignal'; }
}

/** Unwinds code that keeps running in a context that was replaced (load/reset/reboot). */
class ContextGone extends Error {
  constructor() { super('context gone'); this.name = 'ContextGone'; }
}

const isSignal = (e: unknown): boolean =>
  e instanceof PowerCut || e instanceof RebootSignal || e instanceof ContextGone;

// ------------------------------------------------------------------ profiles

const profileCache = new Map<string, BoardProfile>();

export function loadProfile(board: BoardName): BoardProfile {
  let p = profileCache.get(board);
  if (!p) {
    const url = new URL(`../boards/${board}.json`, import.meta.url);
    p = JSON.parse(readFileSync(url, 'utf8')) as BoardProfile;
    profileCache.set(board, p);
  }
  return JSON.parse(JSON.stringify(p)) as BoardProfile;
}


// ------------------------------------------------------------------ the context prelude

/**
 * Runs inside each new context: removes what Espruino lacks, adds Object.prototype.on/emit
 * (Espruino has them on every object; listeners live in hidden "#on<event>" properties),
 * and swaps Date for one driven by the board clock.
 */
const PRELUDE = `(function (nowFn) {
  var g = this;
  ['Map','Set','WeakMap','WeakSet','Symbol','Proxy','Reflect','BigInt','BigInt64Array','BigUint64Array',
   'WeakRef','FinalizationRegistry','SharedArrayBuffer','Atomics','Intl','WebAssembly','AggregateError',
   'TextEncoder','TextDecoder','queueMicrotask','structuredClone','escape','unescape'].forEach(function (n) { delete g[n]; });
  function del(o, names) { names.forEach(function (n) { delete o[n]; }); }
  del(Array, ['from', 'of']);
  del(Array.prototype, ['lastIndexOf', 'flat', 'flatMap', 'keys', 'values', 'entries', 'at', 'findLast', 'findLastIndex', 'copyWithin', 'toReversed', 'toSorted', 'toSpliced', 'with']);
  del(Promise.prototype, ['finally']);
  del(Promise, ['race', 'allSettled', 'any', 'withResolvers']);
  del(Number, ['isInteger', 'isSafeInteger', 'isNaN', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER']);
  del(Math, ['trunc', 'cbrt', 'expm1', 'log1p', 'fround', 'clz32', 'imul', 'hypot']);
  del(Object, ['freeze', 'seal', 'isFrozen', 'isSealed', 'preventExtensions', 'isExtensible', 'groupBy']);
  del(String.prototype, ['trimStart', 'trimEnd', 'trimLeft', 'trimRight', 'at', 'matchAll', 'normalize', 'codePointAt', 'isWellFormed', 'toWellFormed']);
  del(String, ['raw', 'fromCodePoint']);

  function hidden(o, k, v) { Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: false }); }
  function list(o, evt) { var k = '#on' + evt; if (!Object.prototype.hasOwnProperty.call(o, k)) hidden(o, k, []); return o[k]; }
  hidden(Object.prototype, 'on', function (evt, fn) { list(this, evt).push(fn); });
  hidden(Object.prototype, 'addListener', Object.prototype.on);
  hidden(Object.prototype, 'prependListener', function (evt, fn) { list(this, evt).unshift(fn); });
  hidden(Object.prototype, 'emit', function (evt) {
    var k = '#on' + evt;
    if (!Object.prototype.hasOwnProperty.call(this, k)) return;
    var args = Array.prototype.slice.call(arguments, 1), fns = this[k].slice();
    for (var i = 0; i < fns.length; i++) fns[i].apply(this, args);
  });
  hidden(Object.prototype, 'removeListener', function (evt, fn) {
    var k = '#on' + evt;
    if (!Object.prototype.hasOwnProperty.call(this, k)) return;
    var l = this[k], i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  });
  hidden(Object.prototype, 'removeAllListeners', function (evt) {
    if (evt === undefined) {
      var self = this;
      Object.getOwnPropertyNames(this).forEach(function (k) { if (k.indexOf('#on') === 0) delete self[k]; });
    } else delete this['#on' + evt];
  });

  var D = Date;
  function EDate(a, b, c, d, e, f, h) {
    if (!(this instanceof EDate)) return new D(nowFn()).toString();
    switch (arguments.length) {
      case 0: return new D(nowFn());
      case 1: return new D(a);
      default: return new D(a, b, c === undefined ? 1 : c, d || 0, e || 0, f || 0, h || 0);
    }
  }
  EDate.prototype = D.prototype;
  hidden(D.prototype, 'constructor', EDate);
  EDate.now = function () { return nowFn(); };
  EDate.parse = D.parse;
  EDate.UTC = D.UTC;
  g.Date = EDate;
  g.global = g;
  function InternalError(msg) { var e = new Error(msg); Object.setPrototypeOf(e, InternalError.prototype); return e; }
  InternalError.prototype = Object.create(Error.prototype);
  hidden(InternalError.prototype, 'constructor', InternalError);
  InternalError.prototype.name = 'InternalError';
  hidden(g, 'InternalError', InternalError);
})`;

// ------------------------------------------------------------------ session = one JS context

interface Timer { id: number; when: number; fn: () => void; interval?: number }
type Pending = { kind: 'load'; file?: string } | { kind: 'reset'; clear: boolean };

class Session {
  readonly ctx: vm.Context;
  readonly g: any;
  timers = new Map<number, Timer>();
  nextTimer = 1;
  queue: (() => void)[] = [];
  holds = new Set<number>();
  nextHold = 1;
  dead: null | 'reboot' | 'powercut' | 'gone' = null;
  pending: Pending | null = null;
  modules = new Map<string, unknown>();
  disposers: (() => void)[] = [];
  flags: Record<string, number> = {};

  constructor(now: () => number) {
    this.ctx = vm.createContext({}, { name: 'espruino', codeGeneration: { strings: true, wasm: false } });
    this.g = vm.runInContext('this', this.ctx);
    (vm.runInContext(PRELUDE, this.ctx) as Function).call(this.g, now);
  }

  kill(why: 'reboot' | 'powercut' | 'gone'): void {
    if (this.dead) return;
    this.dead = why;
    this.timers.clear();
    this.queue = [];
    this.holds.clear();
    this.pending = null;
    const ds = this.disposers;
    this.disposers = [];
    for (const d of ds) { try { d(); } catch { /* a dying socket must not break the board */ } }
  }
}

// Rejections of device promises end up on the host process; route them back to their board.
const realmOwner = new WeakMap<object, { board: Board; session: Session }>();
let rejectionHookInstalled = false;
function installRejectionHook(): void {
  if (rejectionHookInstalled) return;
  rejectionHookInstalled = true;
  process.on('unhandledRejection', (reason, promise) => {
    const owner = realmOwner.get(Object.getPrototypeOf(promise) as object);
    if (owner) {
      owner.board.unhandledRejection(owner.session, reason);
      return;
    }
    if (process.listenerCount('unhandledRejection') <= 1) throw reason; // Node's default
  });
}

// ------------------------------------------------------------------ Board

export class Board {
  readonly name: BoardName;
  readonly profile: BoardProfile;
  readonly flash: Flash;
  readonly opts: Required<Pick<BoardOptions, 'autoReboot' | 'timeWarp' | 'echo' | 'strictSyntax'>> & BoardOptions;
  /** everything printed, Espruino style; every line ends with "\n" */
  output = '';
  /** cold boots so far (powerOn, including automatic ones after E.reboot) */
  boots = 0;
  /** E.reboot() calls so far */
  reboots = 0;
  log: BoardEvent[] = [];
  /** cumulative, shared by all contexts of this board */
  httpStats: HttpStats = { requests: 0, bytesOut: 0, bytesIn: 0 };
  /** uncaught errors printed so far (text after "Uncaught ") */
  errors: string[] = [];
  /** bench instrumentation; null (default) costs nothing */
  probe: BoardProbe | null = null;

  private session: Session | null = null;
  private isDead = false;
  private rebootPending = false;
  private epoch = Date.now();
  private warp = 0;
  private t0 = performance.now();
  private wake: (() => void) | null = null;

  constructor(opts: BoardOptions) {
    this.name = opts.board;
    this.profile = loadProfile(opts.board);
    this.opts = { autoReboot: true, timeWarp: true, echo: false, strictSyntax: true, ...opts };
    const o = this.profile.ota;
    this.flash = opts.flash ?? new Flash({ storageBytes: o.storageBytes, pageSize: o.pageSize });
    this.flash.onMessage = (line) => this.println(line);
    this.flash.onPowerCut = (op) => this.powerCutFired(op);
    installRejectionHook();
  }

  // ---------------------------------------------------------------- state

  /** board clock in ms since construction */
  now(): number {
    return performance.now() - this.t0 + this.warp;
  }

  get isOn(): boolean {
    return !!this.session && !this.session.dead && !this.isDead;
  }

  get dead(): boolean {
    return this.isDead;
  }

  /** the current context's global object (tests may peek) */
  get global(): any {
    return this.session?.g;
  }

  private event(type: BoardEventType, detail?: string): void {
    this.log.push({ t: Math.round(this.now()), type, detail });
  }

  // ---------------------------------------------------------------- power

  /** Cold boot (power-on, hard reset, E.reboot). Restores power after a cut. */
  powerOn(): void {
    this.session?.kill('gone');
    this.isDead = false;
    this.rebootPending = false;
    this.flash.powerOn();
    this.boots++;
    this.event('powerOn');
    this.boot('power');
  }

  /** `espruino file.js`: boot0-3 and .bootrst (not .bootcde), then the code at top level. */
  runFile(code: string, filename = 'file.js'): void {
    this.session?.kill('gone');
    this.isDead = false;
    this.rebootPending = false;
    this.flash.powerOn();
    this.boots++;
    this.event('runFile', filename);
    const s = this.boot('file');
    if (!s.dead) this.runScript(s, code, filename);
  }

  /** Arm a power cut at the k-th flash mutation from now (see Flash.armPowerCut). */
  cutPower(k: number, mid = false): void {
    this.flash.armPowerCut(k, mid);
  }

  /** Cut the power right now (between two events). */
  powerOff(): void {
    if (this.isDead) return;
    this.flash.freeze();
    this.powerCutFired('now');
  }

  private powerCutFired(op: FlashOp | 'now'): void {
    this.isDead = true;
    this.event('powercut', op);
    this.session?.kill('powercut');
    this.wake?.();
  }

  // ---------------------------------------------------------------- running code

  /** Evaluate code in the current context like the REPL and return its value (device errors are thrown). */
  exec(code: string): unknown {
    const s = this.session;
    if (!s || s.dead || this.isDead) throw new Error('board is not powered');
    try {
      return new vm.Script(this.prepare(s, code, 'REPL'), { filename: 'REPL' }).runInContext(s.ctx);
    } catch (e) {
      if (isSignal(e) || s.dead) return undefined;
      throw e;
    }
  }

  /**
   * Run code as a top-level script of the current context (like `espruino -e`); uncaught errors
   * are printed. Returns false if the script threw.
   */
  evalScript(code: string, filename = 'eval'): boolean {
    const s = this.session;
    if (!s || s.dead || this.isDead) throw new Error('board is not powered');
    return this.runScript(s, code, filename);
  }

  /** Run device code as a top-level script; uncaught errors are printed. */
  private runScript(s: Session, code: string, filename: string): boolean {
    return this.invoke(s, () => {
      new vm.Script(this.prepare(s, code, filename), { filename }).runInContext(s.ctx);
    });
  }

  /** Espruino-fidelity pass over code loaded on the board: syntax check + regex quirk. */
  private prepare(s: Session, code: string, filename: string): string {
    if (!this.opts.strictSyntax) return code;
    const r = prepareCode(code);
    if (r.error) throw new s.g.SyntaxError(r.error + (filename ? ` (in ${filename})` : ''));
    return r.code;
  }

  /** Run one unit of device work (a script, a callback); report what escapes it. */
  private invoke(s: Session, fn: () => void): boolean {
    if (s.dead) return false;
    try {
      fn();
      return true;
    } catch (e) {
      if (isSignal(e) || s.dead) return false;
      this.uncaught(s, e);
      return false;
    }
  }

  private uncaught(s: Session, e: unknown): void {
    const proc = s.g.process;
    if (proc && Object.prototype.hasOwnProperty.call(proc, '#onuncaughtException') &&
        proc['#onuncaughtException'].length) {
      this.invoke(s, () => proc.emit('uncaughtException', e));
      return;
    }
    const text = errorText(e);
    this.errors.push(text);
    this.event('uncaught', text);
    this.println('Uncaught ' + text);
    if (s.flags.onErrorSave) {
      try { this.flash.write('ERROR', latin1('Uncaught ' + text)); } catch { /* best effort, as the firmware */ }
    }
  }

  /** called by the process hook for rejected device promises nobody handled */
  unhandledRejection(s: Session, reason: unknown): void {
    if (s.dead || s !== this.session || isSignal(reason)) return;
    this.uncaught(s, new s.g.Error('Unhandled promise rejection: ' + errorText(reason)));
  }

  private println(line: string): void {
    if (this.isDead) return;
    this.output += line + '\n';
    if (this.opts.echo) process.stdout.write(line + '\n');
  }

  // ---------------------------------------------------------------- boot

  private newSession(): Session {
    const s = new Session(() => this.epoch + this.now());
    this.session = s;
    realmOwner.set(s.g.Promise.prototype, { board: this, session: s });
    this.installGlobals(s);
    return s;
  }

  /** jsiSoftInit: fresh context, boot files per mode, init events. */
  private boot(mode: BootMode, file?: string): Session {
    const s = this.newSession();
    const has = (n: string) => this.flash.find(n) !== undefined;
    const runStored = (n: string) => {
      if (s.dead) return;
      const code = this.flash.read(n);
      if (code !== undefined) this.runScript(s, code, n);
    };
    if (mode === 'power' && has('.bootPowerOn')) runStored('.bootPowerOn');
    for (const n of ['.boot0', '.boot1', '.boot2', '.boot3']) if (has(n)) runStored(n);
    if (has('.bootrst')) runStored('.bootrst');
    else if (mode === 'power' || (mode === 'load' && file === undefined)) runStored('.bootcde');
    if (mode === 'load' && file !== undefined && !s.dead) {
      s.g.__FILE__ = file;
      const code = this.flash.read(file);
      if (code === undefined) this.invoke(s, () => { throw new s.g.Error(`File ${JSON.stringify(file)} not found`); });
      else this.runScript(s, code, file);
    }
    if (!s.dead && mode !== 'file') {
      this.invoke(s, () => s.g.E.emit('init'));
      if (typeof s.g.onInit === 'function') this.invoke(s, () => s.g.onInit());
    }
    return s;
  }

  private doPending(s: Session): void {
    const p = s.pending!;
    s.pending = null;
    if (p.kind === 'load') {
      this.event('load', p.file);
      s.kill('gone');
      this.boot('load', p.file);
    } else {
      this.event('reset');
      s.kill('gone');
      if (p.clear) {
        for (const n of ['.varimg', '.bootcde', '.bootrst']) {
          try { this.flash.erase(n); } catch (e) { if (!(e instanceof PowerCut)) throw e; return; }
        }
      }
      this.boot('reset');
    }
  }

  // ---------------------------------------------------------------- event loop

  /** Drive the event loop until idle, E.reboot(), a power cut or a timeout. */
  async settle(opts: SettleOptions = {}): Promise<SettleResult> {
    const boardLimit = this.now() + (opts.timeout ?? 600_000);
    const wallLimit = performance.now() + (opts.wallTimeout ?? 15_000);
    for (;;) {
      await flushMicrotasks();
      if (this.isDead) return 'powercut';
      if (this.rebootPending) {
        this.rebootPending = false;
        if (this.opts.autoReboot) this.powerOn();
        return 'reboot';
      }
      const s = this.session;
      if (!s || s.dead) return 'idle'; // off (E.reboot without autoReboot)
      if (s.pending) { this.doPending(s); continue; }

      // one idle pass: due timers first, then queued I/O events
      let ran = false;
      const due = [...s.timers.values()].filter((t) => t.when <= this.now())
        .sort((a, b) => a.when - b.when || a.id - b.id);
      for (const t of due) {
        if (s.dead || s.pending || this.rebootPending) break;
        if (!s.timers.has(t.id)) continue;
        if (t.interval !== undefined) t.when += t.interval; else s.timers.delete(t.id);
        ran = true;
        this.invoke(s, t.fn);
        await flushMicrotasks();
      }
      while (s.queue.length && !s.dead && !s.pending && !this.rebootPending) {
        const fn = s.queue.shift()!;
        ran = true;
        this.invoke(s, fn);
        await flushMicrotasks();
      }
      if (ran) continue;

      if (s.timers.size === 0 && s.queue.length === 0 && s.holds.size === 0) return 'idle';
      if (this.now() >= boardLimit || performance.now() >= wallLimit) return 'timeout';
      let next = Infinity;
      for (const t of s.timers.values()) next = Math.min(next, t.when);
      if (s.holds.size === 0 && this.opts.timeWarp && next < Infinity) {
        this.warp += Math.max(0, Math.min(next, boardLimit) - this.now());
        continue;
      }
      const wait = Math.max(0, Math.min(next - this.now(), boardLimit - this.now(), wallLimit - performance.now(), 1000));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() { clearTimeout(timer); resolve(); }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  /** settle() through reboots until idle, a power cut or a timeout. */
  async run(opts: RunOptions = {}): Promise<SettleResult> {
    const max = opts.maxReboots ?? 20;
    let reboots = 0;
    for (;;) {
      const r = await this.settle(opts);
      if (r !== 'reboot' || !this.opts.autoReboot || ++reboots > max) return r;
    }
  }

  private kick(): void {
    this.wake?.();
  }

  // ---------------------------------------------------------------- globals

  private installGlobals(s: Session): void {
    const g = s.g;
    const board = this;
    const profile = this.profile;
    /** every API entry point: code still running in a dead context must not touch the board */
    const live = () => {
      if (board.isDead) throw new PowerCut();
      if (s.dead) throw s.dead === 'reboot' ? new RebootSignal() : new ContextGone();
    };
    const fn = <A extends unknown[], R>(f: (...a: A) => R) => function (this: unknown, ...a: A): R { live(); return f.apply(this, a); };
    const err = (type: string, msg: string) => new g[type](msg);
    const arr = (xs: unknown[]) => { const a = new g.Array(); for (const x of xs) a.push(x); return a; };
    const obj = (o: Record<string, unknown>) => { const r = new g.Object(); for (const k of Object.keys(o)) r[k] = o[k]; return r; };
    const toCtx = (v: unknown) => (v === undefined ? undefined : g.JSON.parse(JSON.stringify(v)));
    const ab = (bytes: Uint8Array) => { const b = new g.ArrayBuffer(bytes.length); new g.Uint8Array(b).set(bytes); return b; };
    const define = (name: string, v: unknown) =>
      Object.defineProperty(g, name, { value: v, writable: true, configurable: true, enumerable: false });

    const print = fn((...args: unknown[]) => { board.println(args.map((a) => formatValue(a)).join(' ')); });
    define('print', print);
    define('console', obj({ log: print, info: print, warn: print, error: print, debug: print, trace: print }));

    // timers
    const addTimer = (f: unknown, ms: unknown, args: unknown[], repeat: boolean) => {
      const cb = typeof f === 'function' ? () => (f as Function).apply(undefined, args)
        : typeof f === 'string' ? () => vm.runInContext(f, s.ctx)
        : null;
      if (!cb) throw err('Error', 'Function or String not supplied!');
      const delay = Math.max(0, Number(ms) || 0);
      const id = s.nextTimer++;
      s.timers.set(id, { id, when: board.now() + delay, fn: cb, interval: repeat ? Math.max(delay, 1) : undefined });
      return id;
    };
    // Espruino: clearTimeout() with undefined clears ALL timers; an unknown id throws.
    const clear = (kind: string) => fn((...a: unknown[]) => {
      const id = a[0];
      if (id === undefined) { s.timers.clear(); return; }
      if (!s.timers.delete(Number(id))) throw err('Error', `Unknown ${kind}`);
    });
    define('setTimeout', fn((f: unknown, ms?: unknown, ...args: unknown[]) => addTimer(f, ms, args, false)));
    define('setInterval', fn((f: unknown, ms?: unknown, ...args: unknown[]) => addTimer(f, ms, args, true)));
    define('clearTimeout', clear('Timeout'));
    define('clearInterval', clear('Interval'));
    define('changeInterval', fn((id: unknown, ms: unknown) => {
      const t = s.timers.get(Number(id));
      if (!t || t.interval === undefined) throw err('Error', 'Unknown Interval');
      t.interval = Math.max(1, Number(ms) || 0);
      t.when = board.now() + t.interval;
    }));
    define('getTime', fn(() => (board.epoch + board.now()) / 1000));

    // base64 over 8-bit binary strings
    define('btoa', fn((v: unknown) => Buffer.from(latin1(String(v))).toString('base64')));
    define('atob', fn((v: unknown) => Buffer.from(String(v), 'base64').toString('latin1')));

    define('getSerial', fn(() => board.opts.serial ?? defaultSerial(board.name)));
    define('url', obj({ parse: fn((u: unknown, q?: unknown) => toCtx(urlParse(String(u), !!q))) }));

    define('load', fn((file?: unknown) => { s.pending = { kind: 'load', file: file === undefined ? undefined : String(file) }; }));
    define('reset', fn((clear?: unknown) => { s.pending = { kind: 'reset', clear: !!clear }; }));
    define('save', fn(() => {
      if (board.flash.find('.bootcde')) throw err('Error', 'save() is not allowed when .bootcde exists');
      throw err('Error', 'save() is not emulated');
    }));

    // process
    const env = obj({
      VERSION: profile.info.binary_version, BOARD: profile.ota.board, STORAGE: profile.ota.storageBytes,
      SERIAL: board.opts.serial ?? defaultSerial(board.name), CONSOLE: 'Serial1',
      MODULES: profile.info.builtin_modules.join(','),
    });
    define('process', obj({
      env, version: profile.info.binary_version,
      memory: fn(() => {
        const total = profile.ota.variables || 16000;
        const usage = Math.min(total, 1500 + s.modules.size * 200);
        return obj({ free: total - usage, usage, total, history: 0, gc: 0, gctime: 0, blocksize: profile.ota.varBytes });
      }),
    }));

    // E
    const E = obj({
      reboot: fn(() => {
        if (profile.ota.board === 'LINUX') board.println('Not implemented');
        try { E.emit('kill'); } catch (e) { if (!isSignal(e)) board.uncaught(s, e); }
        board.reboots++;
        board.event('reboot');
        board.rebootPending = true;
        s.kill('reboot');
        board.kick();
        throw new RebootSignal();
      }),
      CRC32: fn((v: unknown) => crc32(flatBytes(v) ?? [])),
      // One string in, the same 8-bit string out (the firmware makes a flat copy; JS
      // strings are immutable, so returning it is the same to the device and fast).
      toString: fn((...a: unknown[]) => a.length === 1 && typeof a[0] === 'string' ? a[0].replace(/[^\x00-\xff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0xff))
        : bytesToLatin1(Uint8Array.from(iterateBytes(a.length === 1 ? a[0] : a) ?? []))),
      toUint8Array: fn((...a: unknown[]) => new g.Uint8Array(ab(Uint8Array.from(iterateBytes(a.length === 1 ? a[0] : a) ?? [])))),
      toArrayBuffer: fn((v: unknown) => ab(latin1(String(v)))),
      toJS: fn((v: unknown) => stringifyCompact(v)),
      getSizeOf: fn((v: unknown) => Math.max(1, Math.ceil((stringifyCompact(v)?.length ?? 0) / 12))),
      setFlags: fn((f: Record<string, unknown>) => { for (const k of Object.keys(f ?? {})) s.flags[k] = Number(f[k]) ? 1 : 0; }),
      getFlags: fn(() => obj({ ...s.flags })),
      enableWatchdog: fn(() => undefined),
      kickWatchdog: fn(() => undefined),
      getErrorFlags: fn(() => arr([])),
      defrag: fn(() => undefined),
      hwRand: fn(() => randomInt(0, 2 ** 32 - 1) | 0),
      setBootCode: fn((code: unknown, always?: unknown) => {
        board.flash.erase('.bootcde');
        board.flash.erase('.bootrst');
        const c = code === undefined ? '' : String(code);
        if (c.length) storageCall(() => board.flash.write(always ? '.bootrst' : '.bootcde', latin1(c)));
      }),
    });
    define('E', E);

    // Modules cache
    define('Modules', obj({
      // Like jspEvaluateModule: a function stands for its body, which runs as the
      // module's code with `exports` and `module` in scope (how the espruino CLI bundles).
      addCached: fn((name: unknown, m: unknown) => {
        if (typeof m === 'function') {
          const src = String(m);
          m = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}'));
        }
        if (typeof m !== 'string') throw err('Error', 'args must be addCached(string, string|function)');
        s.modules.set(String(name), evalModule(String(name), m));
      }),
      removeCached: fn((name: unknown) => { s.modules.delete(String(name)); }),
      removeAllCached: fn(() => { s.modules.clear(); }),
      getCached: fn(() => arr([...s.modules.keys()])),
    }));

    /** Flash errors become exceptions of the context's realm; a power cut stays a PowerCut. */
    function storageCall<T>(f: () => T): T {
      try {
        return f();
      } catch (e) {
        if (e instanceof StorageError) throw err(e.jsType, e.message);
        throw e;
      }
    }

    const evalModule = (name: string, code: string): unknown => {
      const src = board.prepare(s, code, name);
      const module = obj({ exports: obj({}) });
      const f = vm.compileFunction(src, ['exports', 'module'], { parsingContext: s.ctx, filename: name });
      f.call(g, module.exports, module);
      return module.exports;
    };

    const storage = this.makeStorage(s, fn, storageCall, { err, arr, obj, toCtx, ab });
    let httpModule: object | undefined;
    let cryptoModule: object | undefined;
    define('require', fn((nameArg: unknown) => {
      const name = String(nameArg);
      if (s.modules.has(name)) return s.modules.get(name);
      let m: unknown;
      if (name === 'Storage') m = storage;
      else if (name === 'http') m = httpModule ??= createHttp(board.httpHost(s));
      else if (name === 'crypto' && profile.ota.crypto) m = cryptoModule ??= board.makeCrypto(fn, ab);
      else if (name === 'Wifi' && profile.info.builtin_modules.includes('Wifi')) m = board.makeWifi(s, fn, obj);
      else {
        const code = board.flash.read(name);
        if (code === undefined) throw err('Error', `Module ${name} not found`);
        m = evalModule(name, code);
      }
      s.modules.set(name, m);
      return m;
    }));

    if (profile.chip.family === 'ESP8266') {
      define('ESP8266', obj({
        getResetInfo: fn(() => obj({ reason: board.boots <= 1 ? 'power on' : 'restart' })),
        reboot: (g.E as { reboot: Function }).reboot,
      }));
    }
    if (profile.chip.family === 'ESP32') {
      define('ESP32', obj({
        getState: fn(() => obj({ sdkVersion: 'v3.3.1', freeHeap: 100000, BLE: false, Wifi: true, minHeap: 90000 })),
        reboot: (g.E as { reboot: Function }).reboot,
      }));
    }
  }

  private makeStorage(
    s: Session,
    fn: <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) => R,
    call: <T>(f: () => T) => T,
    h: { err: (t: string, m: string) => any; arr: (x: unknown[]) => any; obj: (o: Record<string, unknown>) => any; toCtx: (v: unknown) => any; ab: (b: Uint8Array) => any },
  ): object {
    const flash = this.flash;
    const g = s.g;
    const dataBytes = (data: unknown): Uint8Array => {
      if (data === undefined) throw h.err('Error', "Can't get pointer to data to write");
      if (data === null) throw h.err('TypeError', 'Expecting Number or iterable, got null');
      const b = toBytes(data);
      if (!b) throw h.err('TypeError', `Expecting Number or iterable, got ${typeof data}`);
      return b;
    };
    const isPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !isView(v) && !isArrayBuffer(v);
    return h.obj({
      read: fn((name: unknown, offset?: unknown, length?: unknown) => {
        const r = flash.read(String(name), Number(offset) || 0, Number(length) || 0);
        this.probe?.read?.(String(name), r);
        return r;
      }),
      readArrayBuffer: fn((name: unknown) => {
        const b = flash.readBytes(String(name));
        return b === undefined ? undefined : h.ab(b);
      }),
      readJSON: fn((name: unknown, noExceptions?: unknown) => {
        const text = flash.read(String(name));
        if (text === undefined) return undefined;
        try {
          return h.toCtx(parseLiberal(text));
        } catch (e) {
          if (noExceptions) return undefined;
          if (e instanceof StorageError) throw h.err(e.jsType, e.message);
          throw e;
        }
      }),
      write: fn((name: unknown, data?: unknown, offset?: unknown, size?: unknown) => {
        this.probe?.write?.(String(name), data);
        if (isPlainObject(data)) return call(() => flash.write(String(name), latin1(g.JSON.stringify(data))));
        const bytes = dataBytes(data);
        return call(() => flash.write(String(name), bytes, Number(offset) || 0, Number(size) || 0));
      }),
      writeJSON: fn((name: unknown, data: unknown) => {
        const text = stringifyCompact(data);
        this.probe?.write?.(String(name), text);
        return call(() => flash.write(String(name), dataBytes(text)));
      }),
      erase: fn((name: unknown) => { call(() => flash.erase(String(name))); }),
      eraseAll: fn(() => { call(() => flash.eraseAll()); }),
      compact: fn(() => { call(() => flash.compact()); this.event('compact'); }),
      getFree: fn(() => flash.getFree()),
      getStats: fn(() => h.obj({ ...flash.getStats() })),
      list: fn((re?: unknown, opts?: { sf?: boolean }) => {
        let names = flash.list();
        if (opts && opts.sf === false) names = names.filter((n) => !/[\x01-\xff]$/.test(n) || !isStorageFileChunk(n, names));
        if (re !== undefined && re !== null) {
          const r = re as RegExp;
          names = names.filter((n) => { r.lastIndex = 0; return r.test(n); });
        }
        return h.arr(names);
      }),
      hash: fn((re?: unknown) => {
        const r = re as RegExp | undefined;
        return flash.hash(r ? (n) => { r.lastIndex = 0; return r.test(n); } : undefined);
      }),
      optimise: fn(() => undefined),
      debug: fn(() => undefined),
      open: fn(() => { throw h.err('Error', 'Storage.open (StorageFile) is not emulated'); }),
    });
  }

  private makeCrypto(
    fn: <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) => R,
    ab: (b: Uint8Array) => any,
  ): object {
    const c: Record<string, unknown> = {};
    const algo: Record<string, string> = { SHA1: 'sha1', SHA224: 'sha224', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };
    for (const h of this.profile.ota.hashes) {
      const a = algo[h];
      if (a) c[h] = fn((v: unknown) => ab(createHash(a).update(flatBytes(v) ?? new Uint8Array(0)).digest()));
    }
    const o = new this.session!.g.Object();
    Object.assign(o, c);
    return o;
  }

  /** Minimal Wifi: always connected (the station is up before boot code runs). */
  private makeWifi(s: Session, fn: <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) => R, obj: (o: Record<string, unknown>) => any): object {
    const ip = () => obj({ ip: '192.168.1.50', netmask: '255.255.255.0', gw: '192.168.1.1', mac: '30:ae:a4:00:00:01' });
    const later = (cb: unknown, ...args: unknown[]) => {
      if (typeof cb === 'function') s.queue.push(() => (cb as Function)(...args));
      this.kick();
    };
    return obj({
      connect: fn((_ssid: unknown, _o: unknown, cb?: unknown) => later(cb, null)),
      disconnect: fn((cb?: unknown) => later(cb)),
      getIP: fn((cb?: unknown) => { const r = ip(); later(cb, null, r); return r; }),
      getStatus: fn(() => obj({ station: 'connected', ap: 'disabled', mode: 'sta' })),
      getDetails: fn((cb?: unknown) => { const r = obj({ status: 'connected', ssid: 'emulator' }); later(cb, r); return r; }),
      setHostname: fn(() => undefined),
      save: fn(() => undefined),
      restore: fn(() => undefined),
      scan: fn((cb?: unknown) => later(cb, null, new s.g.Array())),
    });
  }

  /** The HttpHost of one context; everything it queues dies with that context. */
  private httpHost(s: Session): BoardHttpHost {
    const board = this;
    return {
      version: this.profile.info.binary_version,
      listenerCount(o: object, event: string) {
        const l = (o as Record<string, unknown>)['#on' + event];
        return Array.isArray(l) ? l.length : 0;
      },
      uncaught(e: unknown) {
        if (isSignal(e) || s.dead || board.isDead) return;
        board.uncaught(s, e);
      },
      newNamedError(name: string, msg: string) {
        const C = s.g[name];
        return typeof C === 'function' ? new C(msg) : new s.g.Error(msg);
      },
      chunkSize: this.profile.ota.httpChunk,
      onData(chunk) { board.probe?.httpData?.(chunk); },
      defer(f) {
        if (s.dead || board.isDead) return;
        s.queue.push(f);
        board.kick();
      },
      hold() {
        const id = s.nextHold++;
        s.holds.add(id);
        return () => {
          if (s.holds.delete(id)) board.kick();
        };
      },
      print(line) {
        if (!s.dead) board.println(line);
      },
      makeEmitter<T extends object>(o: T): T {
        if (typeof (o as { on?: unknown }).on === 'function') return o;
        const proto = s.g.Object.prototype;
        for (const k of ['on', 'addListener', 'prependListener', 'emit', 'removeListener', 'removeAllListeners']) {
          Object.defineProperty(o, k, { value: proto[k], writable: true, configurable: true, enumerable: false });
        }
        return o;
      },
      stats: this.httpStats,
      connectCheck: this.opts.http?.connectCheck ?? true,
      newObject: () => new s.g.Object(),
      newError: (msg: string) => new s.g.Error(msg),
      onDispose(f) {
        if (s.dead) { try { f(); } catch { /* ignore */ } return; }
        s.disposers.push(f);
      },
      alive: () => !s.dead && !board.isDead,
      tls: !!this.profile.ota.tls,
    };
  }
}

// ------------------------------------------------------------------ helpers

/** Let promise reactions queued by device code run (they share the host microtask queue). */
function flushMicrotasks(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function defaultSerial(board: string): string {
  const h = createHash('sha1').update(board).digest('hex');
  return h.slice(0, 12);
}

function isStorageFileChunk(n: string, all: string[]): boolean {
  const base = n.slice(0, -1);
  return all.includes(base + '\x01');
}
