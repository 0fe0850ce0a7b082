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
    t.when = clock.now() + t.interval;
  }));
  define('getTime', fn(() => (clock.epochMs + clock.now()) / 1000));
}
