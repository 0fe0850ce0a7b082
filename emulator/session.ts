/**
 * One JS context of a board: what lives from a boot (power-on, load(), reset()) until the
 * next one. Timers, queued events, open sockets ("holds"), the module cache and the
 * teardown hooks all die with it; nothing it queued can run afterwards.
 */

import vm from 'node:vm';
import { PowerCut } from './flash-memory.ts';

/** Unwinds device code after E.reboot(); never visible as a normal exception. */
export class RebootSignal extends Error {
  constructor() { super('E.reboot()'); this.name = 'RebootSignal'; }
}

/** Unwinds code that keeps running in a context that was replaced (load/reset/reboot). */
export class ContextGone extends Error {
  constructor() { super('context gone'); this.name = 'ContextGone'; }
}

/** Host-side unwinding (power cut, reboot, replaced context): never reported as uncaught. */
export const isSignal = (e: unknown): boolean =>
  e instanceof PowerCut || e instanceof RebootSignal || e instanceof ContextGone;

export interface Timer { id: number; when: number; fn: () => void; interval?: number }

/** load()/reset() are deferred to the next idle pass, as on the board. */
export type Pending = { kind: 'load'; file?: string } | { kind: 'reset'; clear: boolean };

export type DeathCause = 'reboot' | 'powercut' | 'gone';

export class Session {
  readonly ctx: vm.Context;
  /** the context's global object */
  readonly g: any;
  timers = new Map<number, Timer>();
  nextTimer = 1;
  /** events for the next idle pass (I/O callbacks, emit()) */
  queue: (() => void)[] = [];
  /** open sockets and other work that keeps the board busy */
  holds = new Set<number>();
  nextHold = 1;
  dead: null | DeathCause = null;
  pending: Pending | null = null;
  /** require() cache, the Modules API */
  modules = new Map<string, unknown>();
  disposers: (() => void)[] = [];
  /** E.setFlags() */
  flags: Record<string, number> = {};
  /** inside a pass of the event loop, where uncaught errors wait for its end */
  inPass = false;
  /** the uncaught error of this pass: the firmware keeps one, the last */
  passError: { e: unknown } | null = null;

  constructor() {
    this.ctx = vm.createContext({}, { name: 'espruino', codeGeneration: { strings: true, wasm: false } });
    this.g = vm.runInContext('this', this.ctx);
  }

  /** Throws the signal that unwinds device code still running after this context died. */
  checkAlive(boardDead: boolean): void {
    if (boardDead) throw new PowerCut();
    if (this.dead) throw this.dead === 'reboot' ? new RebootSignal() : new ContextGone();
  }

  kill(why: DeathCause): void {
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
