/**
 * An Espruino board on Node: device JS runs in a `vm` context that exposes only Espruino's
 * globals (one module per API, see globals.ts), on top of a persistent `Flash` that survives
 * reboots and power cuts. This module is the board runner: power, the boot sequence, the
 * event loop, and fault injection (power cuts).
 *
 * Lifecycle
 * - `powerOn()` = cold boot / E.reboot() / `espruino -e`: fresh context, `.bootPowerOn`,
 *   `.boot0`…`.boot3`, then `.bootrst` if it exists else `.bootcde`, then E.on('init') handlers
 *   and onInit().
 * - `runFile(code)` = `espruino file.js`: fresh context, `.bootPowerOn`, `.boot0`…`.boot3` and
 *   `.bootrst`, then code (never `.bootcde`).
 * - Nothing runs by itself: `settle()` drives the event loop (timers, I/O callbacks, deferred
 *   load()/reset()) until the first of: idle, E.reboot(), power cut, timeout. With `autoReboot`
 *   (default) the board has already booted again when settle returns 'reboot'; `run()` loops
 *   settle() through reboots until something else happens.
 *
 * Time: the board has its own clock (Date, getTime, timers). While no socket is open, the clock
 * stands still while code runs and jumps straight to the next timer when idle ("time warp"):
 * a 30 s timeout costs nothing in a test, and what runs in one pass does not depend on how
 * fast the host is (a loaded CI machine once merged a 50 ms timer into the pass of an event
 * queued before it, golden probe 46). With sockets open it follows real time, as their data
 * arrives in real time. Disable with `timeWarp: false` (always real time).
 *
 * HTTP wiring: `http.ts` exports `createHttp(host: HttpHost)`; one http instance per context.
 * The board's host also carries `onDispose(fn)` (called when the context dies: reboot, power
 * cut, load, reset; the place to destroy sockets), `alive()` and `tls`. Everything queued
 * through `defer` by a dead context is dropped, and its holds are released.
 *
 * Why this module is over 500 lines: power, boot, the event loop and the clock are one
 * runner whose steps share the current session (its timers, queue and holds) and the power
 * state; the APIs the device code sees live in their own modules (globals.ts).
 */

import vm from 'node:vm';
import { bootFiles, runsInit, type BootMode } from './boot.ts';
import { fireEvent } from './events.ts';
import { Flash, PowerCut, type FlashOp } from './flash-memory.ts';
import { installGlobals, type ContextApis } from './globals.ts';
import { createHttpHost, type HttpStats } from './http-host.ts';
import { defaultSerial, dispatchUncaught } from './process.ts';
import { isEsp8266, loadProfile, type BoardName, type BoardProfile } from './profiles.ts';
import { createRealm } from './realm.ts';
import { routeRejections } from './rejections.ts';
import { isSignal, RebootSignal, Session } from './session.ts';
import type { StorageProbe } from './storage.ts';
import { prepareCode } from './syntax.ts';
import { errorText, latin1 } from './values.ts';

export { Flash, PowerCut, loadProfile };
export type { BoardName, BoardProfile };

export type { HttpStats };

/** Bench instrumentation (default off): sees what crosses the Storage and http APIs of device code. */
export interface BoardProbe extends StorageProbe {
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

/**
 * `uncaughtDropped`: an uncaught error went to a process["#onuncaughtException"] left empty
 * (nothing printed); `crash`: the chip reset itself (an ESP8266 Storage.write from a view into
 * Storage, see storage-views.ts), `detail` says why.
 */
export type BoardEventType =
  'powerOn' | 'runFile' | 'reboot' | 'crash' | 'powercut' | 'load' | 'reset' | 'uncaught' | 'uncaughtDropped' | 'compact';

/** ESP8266.getResetInfo().reason of a start */
type ResetCause = 'power on' | 'restart' | 'exception';
export interface BoardEvent { t: number; type: BoardEventType; detail?: string }

const TIMER_SLACK_MS = 1;
/** A standing clock still moves this much per reading, so code that waits for getTime() to pass
 * a mark (a busy wait) ends, after a number of readings that does not depend on the host. */
const STANDING_TICK_MS = 0.001;

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
  /** resets the chip did by itself so far (see the 'crash' events in `log`) */
  crashes = 0;
  log: BoardEvent[] = [];
  /** cumulative, shared by all contexts of this board */
  httpStats: HttpStats = { requests: 0, bytesOut: 0, bytesIn: 0 };
  /** uncaught errors printed so far (text after "Uncaught ") */
  errors: string[] = [];
  /** bench instrumentation; null (default) costs nothing */
  probe: BoardProbe | null = null;

  private session: Session | null = null;
  /** what the board keeps of the current context's APIs */
  private apis: ContextApis | null = null;
  private isDead = false;
  private rebootPending = false;
  /** why the chip restarts at the next automatic power-on, and why the current start happened */
  private nextCause: ResetCause = 'restart';
  private cause: ResetCause = 'power on';
  private readonly epochMs = Date.now();
  /** board time (ms) at `realAt` */
  private clockMs = 0;
  /** performance.now() from which the clock follows real time; null while it stands still */
  private realAt: number | null = null;
  private wake: (() => void) | null = null;

  constructor(opts: BoardOptions) {
    this.name = opts.board;
    this.profile = loadProfile(opts.board);
    this.opts = { autoReboot: true, timeWarp: true, echo: false, strictSyntax: true, ...opts };
    const o = this.profile.ota;
    this.flash = opts.flash ?? new Flash({ storageBytes: o.storageBytes, pageSize: o.pageSize });
    this.flash.onMessage = (line) => this.println(line);
    this.flash.onPowerCut = (op) => this.powerCutFired(op);
  }

  // ---------------------------------------------------------------- state

  /** board clock in ms since construction */
  now(): number {
    const real = performance.now();
    if (this.realAt !== null) this.clockMs += real - this.realAt;
    else this.clockMs += STANDING_TICK_MS;
    this.realAt = this.followsRealTime() ? real : null;
    return this.clockMs;
  }

  private followsRealTime(): boolean {
    return !this.opts.timeWarp || (!!this.session && this.session.holds.size > 0);
  }

  /** Call just after a socket opened or closed: the time before it counts under the old rule. */
  clockRuleChanged(): void {
    this.now();
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
    this.start('powerOn', undefined, 'power on');
    this.boot('power');
  }

  /** `espruino file.js`: .bootPowerOn, boot0-3 and .bootrst (not .bootcde), then the code at top level. */
  runFile(code: string, filename = 'file.js'): void {
    this.start('runFile', filename, 'power on');
    const s = this.boot('file');
    if (!s.dead) this.runScript(s, code, filename);
  }

  private start(type: 'powerOn' | 'runFile', detail: string | undefined, cause: ResetCause): void {
    this.cause = cause;
    this.session?.kill('gone');
    this.isDead = false;
    this.rebootPending = false;
    this.flash.powerOn();
    this.boots++;
    this.event(type, detail);
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

  /** E.reboot() from context `s`: the board powers on again at the next settle(). */
  private rebootFrom(s: Session): never {
    this.reboots++;
    this.event('reboot');
    return this.restart(s, 'restart');
  }

  /** The chip resets itself (no E.on('kill') handlers run): it powers on again at the next settle(). */
  private crashFrom(s: Session, detail: string): never {
    this.crashes++;
    this.event('crash', detail);
    return this.restart(s, 'exception');
  }

  private restart(s: Session, cause: ResetCause): never {
    this.nextCause = cause;
    this.rebootPending = true;
    s.kill('reboot');
    this.kick();
    throw new RebootSignal();
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

  /** Run device code as a top-level script (tied to its Storage file with `guardId`); uncaught errors are printed. */
  private runScript(s: Session, code: string, filename: string, guardId?: number): boolean {
    return this.invoke(s, () => {
      new vm.Script(this.prepare(s, code, filename, guardId), { filename }).runInContext(s.ctx);
    });
  }

  /** A Storage file's code, tied to that file (stored-code.ts). */
  private runStored(s: Session, file: string, code: string): boolean {
    return this.runScript(s, code, file, this.apis!.storedCode.guardFor(file));
  }

  /**
   * Espruino-fidelity pass over code loaded on the board (syntax.ts): syntax check, regex quirk,
   * eval hook, and with `guardId` the tie to its Storage file. `strictSyntax: false` skips it all.
   */
  private prepare(s: Session, code: string, filename: string, guardId?: number): string {
    if (!this.opts.strictSyntax) return code;
    const r = prepareCode(code, { guardId });
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

  /**
   * An exception escaped device code. Inside a pass of the event loop it waits for the end of
   * the pass, and a later one replaces it (the firmware's jsiLoop checks errors once per
   * jsiIdle); elsewhere (boot files, the script of runFile) it is reported at once.
   */
  private uncaught(s: Session, e: unknown): void {
    if (s.inPass) s.passError = { e };
    else this.reportUncaught(s, e);
  }

  private reportUncaught(s: Session, e: unknown): void {
    let outcome: ReturnType<typeof dispatchUncaught>;
    try {
      outcome = dispatchUncaught(s, e);
    } catch (signal) {
      if (isSignal(signal) || s.dead) return;
      throw signal;
    }
    if (outcome.dropped !== undefined) this.event('uncaughtDropped', outcome.dropped);
    if (outcome.printed === undefined) return;
    const text = outcome.printed;
    this.errors.push(text);
    this.event('uncaught', text);
    this.println('Uncaught ' + text);
    if (s.flags.onErrorSave) {
      try { this.flash.write('ERROR', latin1('Uncaught ' + text)); } catch { /* best effort, as the firmware */ }
    }
  }

  /** The end of a pass: its uncaught error, if any, is reported now. */
  private endPass(s: Session): void {
    s.inPass = false;
    const pending = s.passError;
    s.passError = null;
    if (pending && !s.dead) this.reportUncaught(s, pending.e);
  }

  /** a device promise was rejected and nobody handled it */
  private unhandledRejection(s: Session, reason: unknown): void {
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
    const s = new Session();
    this.session = s;
    routeRejections(s.g.Promise.prototype, (reason) => this.unhandledRejection(s, reason));
    const realm = createRealm(s.g, () => s.checkAlive(this.isDead));
    const esp8266 = isEsp8266(this.profile);
    this.apis = installGlobals(realm, s, {
      profile: this.profile,
      flash: this.flash,
      serial: this.opts.serial ?? defaultSerial(this.name),
      clock: { now: () => this.now(), epochMs: this.epochMs },
      println: (line) => this.println(line),
      uncaught: (e) => this.uncaught(s, e),
      reboot: () => this.rebootFrom(s),
      compacted: () => this.event('compact'),
      storageProbe: () => this.probe,
      prepare: (code, filename, guardId) => this.prepare(s, code, filename, guardId),
      flashSourceReset: esp8266 ? (detail) => this.crashFrom(s, detail) : undefined,
      httpHost: () => createHttpHost(s, {
        profile: this.profile,
        stats: this.httpStats,
        connectCheck: this.opts.http?.connectCheck ?? true,
        boardDead: () => this.isDead,
        println: (line) => this.println(line),
        uncaught: (e) => this.uncaught(s, e),
        kick: () => this.kick(),
        clockRuleChanged: () => this.clockRuleChanged(),
        httpData: (chunk) => this.probe?.httpData?.(chunk),
      }),
      resetReason: () => this.cause,
      later: (f) => { s.queue.push(f); this.kick(); },
    });
    return s;
  }

  /** jsiSoftInit: fresh context, boot files per mode, init events. */
  private boot(mode: BootMode, file?: string): Session {
    const s = this.newSession();
    for (const n of bootFiles(this.flash, mode, file)) {
      if (s.dead) break;
      const code = this.flash.read(n);
      if (code !== undefined) this.runStored(s, n, code);
    }
    if (mode === 'load' && file !== undefined && !s.dead) {
      s.g.__FILE__ = file;
      const code = this.flash.read(file);
      if (code === undefined) this.invoke(s, () => { throw new s.g.Error(`File ${JSON.stringify(file)} not found`); });
      else this.runStored(s, file, code);
    }
    if (!s.dead && runsInit(mode)) {
      this.invoke(s, () => fireEvent(s.ctx, s.g.E, 'init', []));
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
        if (this.opts.autoReboot) {
          this.start('powerOn', undefined, this.nextCause);
          this.boot('power');
        }
        return 'reboot';
      }
      const s = this.session;
      if (!s || s.dead) return 'idle'; // off (E.reboot without autoReboot)
      if (s.pending) { this.doPending(s); continue; }

      // one idle pass: due timers first, then queued I/O events, then its uncaught error
      let ran = false;
      s.inPass = true;
      // within TIMER_SLACK_MS of each other timers are due together, as the firmware's sleep
      // overshoots by that much (timers set in one callback run in one pass, golden probe 66)
      const due = [...s.timers.values()].filter((t) => t.when <= this.now() + TIMER_SLACK_MS)
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
      this.endPass(s);
      if (ran) continue;

      if (s.timers.size === 0 && s.queue.length === 0 && s.holds.size === 0) return 'idle';
      if (this.now() >= boardLimit || performance.now() >= wallLimit) return 'timeout';
      let next = Infinity;
      for (const t of s.timers.values()) next = Math.min(next, t.when);
      if (s.holds.size === 0 && this.opts.timeWarp && next < Infinity) {
        const t = this.now();
        this.clockMs = Math.max(t, Math.min(next, boardLimit));
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
}

/** Let promise reactions queued by device code run (they share the host microtask queue). */
function flushMicrotasks(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
