/**
 * Espruino's timers on the board clock: setTimeout, setInterval, clearTimeout, clearInterval,
 * changeInterval, getTime. The board's event loop (board.ts) runs the due ones.
 */

import vm from 'node:vm';
import type { Realm } from './realm.ts';
import type { Session } from './session.ts';

export interface BoardClock {
  /** board-clock ms since the board was made */
  now(): number;
  /** wall-clock ms at board-clock 0 (getTime() and Date are epoch + now) */
  readonly epochMs: number;
}

export function installTimers(realm: Realm, s: Session, clock: BoardClock): void {
  const { fn, err, define } = realm;
  const addTimer = (f: unknown, ms: unknown, args: unknown[], repeat: boolean) => {
    const cb = typeof f === 'function' ? () => (f as Function).apply(undefined, args)
      : typeof f === 'string' ? () => vm.runInContext(f, s.ctx)
      : null;
    if (!cb) throw err('Error', 'Function or String not supplied!');
    const delay = Math.max(0, Number(ms) || 0);
    const id = s.nextTimer++;
    s.timers.set(id, { id, when: clock.now() + delay, fn: cb, interval: repeat ? Math.max(delay, 1) : undefined });
    return id;
  };
  // clearTimeout() with no argument clears every timer; clearTimeout(undefined) (an unset
  // variable) throws; an unknown or spent id does nothing (golden probe 51).
  const clear = (name: string) => fn((...a: unknown[]) => {
    if (a.length === 0) { s.timers.clear(); return; }
    if (a[0] === undefined) throw err('Error', `${name}(undefined) not allowed. Use ${name}() instead`);
    s.timers.delete(Number(a[0]));
  });
  define('setTimeout', fn((f: unknown, ms?: unknown, ...args: unknown[]) => addTimer(f, ms, args, false)));
  define('setInterval', fn((f: unknown, ms?: unknown, ...args: unknown[]) => addTimer(f, ms, args, true)));
  define('clearTimeout', clear('clearTimeout'));
  define('clearInterval', clear('clearInterval'));
  define('changeInterval', fn((id: unknown, ms: unknown) => {
    const t = s.timers.get(Number(id));
    if (!t || t.interval === undefined) throw err('Error', 'Unknown Interval');
    t.interval = Math.max(1, Number(ms) || 0);
    t.when = clock.now() + t.interval;
  }));
  define('getTime', fn(() => (clock.epochMs + clock.now()) / 1000));
}
