/**
 * Espruino's EventEmitter, which every object has: `on`, `addListener`, `prependListener`,
 * `emit`, `removeListener`, `removeAllListeners` on Object.prototype, with the listeners of
 * event `x` in the object's own property `#onx` (where Espruino keeps them).
 */

import { hidden } from './language.ts';
import type { Realm } from './realm.ts';

export const EMITTER_METHODS = ['on', 'addListener', 'prependListener', 'emit', 'removeListener', 'removeAllListeners'];

export const listenersKey = (event: string): string => '#on' + event;

/** The listeners of `event` on `o`, if any (the array device code sees). */
export function listenersOf(o: object, event: string): unknown[] | undefined {
  const k = listenersKey(event);
  if (!Object.prototype.hasOwnProperty.call(o, k)) return undefined;
  const l = (o as Record<string, unknown>)[k];
  return Array.isArray(l) ? l : undefined;
}

export function installEvents(realm: Realm): void {
  const proto = realm.g.Object.prototype;
  const list = (o: object, event: string): unknown[] => {
    const k = listenersKey(event);
    if (!Object.prototype.hasOwnProperty.call(o, k)) hidden(o, k, realm.arr([]));
    return (o as Record<string, unknown[]>)[k];
  };
  hidden(proto, 'on', function (this: object, event: string, fn: unknown) { list(this, event).push(fn); });
  hidden(proto, 'addListener', proto.on);
  hidden(proto, 'prependListener', function (this: object, event: string, fn: unknown) { list(this, event).unshift(fn); });
  hidden(proto, 'emit', function (this: object, event: string, ...args: unknown[]) {
    const l = listenersOf(this, event);
    if (!l) return;
    for (const f of l.slice()) (f as Function).apply(this, args);
  });
  hidden(proto, 'removeListener', function (this: object, event: string, fn: unknown) {
    const l = listenersOf(this, event);
    if (!l) return;
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  });
  hidden(proto, 'removeAllListeners', function (this: Record<string, unknown>, event?: string) {
    if (event === undefined) {
      for (const k of Object.getOwnPropertyNames(this)) if (k.startsWith('#on')) delete this[k];
    } else delete this[listenersKey(event)];
  });
}
