/**
 * Espruino's EventEmitter, which every object has (`jswrap_object_on` & co. in
 * src/jswrap_object.c), as the real interpreter shows it (golden probe 58):
 * - the listeners of event `x` live in the object's own, enumerable property `#onx`, an array;
 *   `on()` stores a new array each time (a copy plus the listener);
 * - `emit()` queues the event: the listeners run after the current code, at the next idle
 *   pass, and the queued event keeps the array it found, so a later `removeListener` (which
 *   edits that array in place, leaving a hole) still counts, while a later `on()` does not;
 * - `removeListener` deletes the entry (the array shrinks only when it was the last one);
 *   `removeAllListeners(x)` deletes `#onx`, and with no argument every `#on...` property;
 * - adding a 'data' listener to a stream that buffered data queues that data at once.
 * Native code of the emulator (http, E 'init'/'kill', process 'uncaughtException') calls
 * listeners synchronously through `fireListeners`, as the firmware's jsiExecuteEventCallback.
 */

import vm from 'node:vm';
import { hidden } from './language.ts';
import type { Realm } from './realm.ts';
import { isSignal } from './session.ts';

export const EMITTER_METHODS = ['on', 'addListener', 'prependListener', 'emit', 'removeListener', 'removeAllListeners'];

const listenersKey = (event: string): string => '#on' + event;

/** What `#on<event>` holds, if the object has it (an array, or what device code put there). */
export function listenersOf(o: object, event: string): unknown {
  const k = listenersKey(event);
  return Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
}

/** The number of listeners (holes left by removeListener do not count). */
export function listenerCount(o: object, event: string): number {
  const l = listenersOf(o, event);
  if (Array.isArray(l)) return Object.keys(l).length;
  return l === undefined ? 0 : 1;
}

/** Streams (http responses) that buffer data no 'data' listener took: take it all, or null. */
const streamBuffers = new WeakMap<object, () => string | null>();

export function registerStreamBuffer(stream: object, take: () => string | null): void {
  streamBuffers.set(stream, take);
}

/**
 * jsiExecuteEventCallback: call the listeners (an array, a function, or a string of code run at
 * global scope) with `self` as `this`. A listener that throws does not stop the others; the
 * firmware keeps one pending exception, the last, and that one is thrown at the end.
 */
export function fireListeners(ctx: vm.Context, self: unknown, listeners: unknown, args: unknown[]): void {
  if (Array.isArray(listeners)) {
    let failed: { e: unknown } | undefined;
    for (const k of Object.keys(listeners)) {
      try {
        fireListeners(ctx, self, listeners[Number(k)], args);
      } catch (e) {
        if (isSignal(e)) throw e;
        failed = { e };
      }
    }
    if (failed) throw failed.e;
  } else if (typeof listeners === 'function') {
    listeners.apply(self, args);
  } else if (typeof listeners === 'string') {
    vm.runInContext(listeners, ctx);
  }
}

/** Call the listeners of `event` on `o` now (native code raising an event). */
export function fireEvent(ctx: vm.Context, o: object, event: string, args: unknown[]): void {
  fireListeners(ctx, o, listenersOf(o, event), args);
}

export interface EventsHost {
  ctx: vm.Context;
  /** run a device callback at the next idle pass (the firmware's event queue) */
  queue(f: () => void): void;
}

export function installEvents(realm: Realm, host: EventsHost): void {
  const proto = realm.g.Object.prototype;
  const set = (o: object, event: string, l: unknown[]) =>
    Object.defineProperty(o, listenersKey(event), { value: l, writable: true, enumerable: true, configurable: true });
  const withListener = (o: object, event: string, fn: unknown, first: boolean): void => {
    const old = listenersOf(o, event);
    const l: unknown[] = Array.isArray(old) ? old.slice() : old === undefined ? realm.arr([]) : realm.arr([old]);
    if (first) l.unshift(fn); else l.push(fn);
    set(o, event, l);
    if (event === 'data') {
      const data = streamBuffers.get(o)?.();
      if (data !== null && data !== undefined) emitLater(o, 'data', [data]);
    }
  };
  const emitLater = (o: object, event: string, args: unknown[]): void => {
    const l = listenersOf(o, event);
    if (l !== undefined) host.queue(() => fireListeners(host.ctx, o, l, args));
  };
  hidden(proto, 'on', function (this: object, event: unknown, fn: unknown) { withListener(this, String(event), fn, false); });
  hidden(proto, 'addListener', proto.on);
  hidden(proto, 'prependListener', function (this: object, event: unknown, fn: unknown) { withListener(this, String(event), fn, true); });
  hidden(proto, 'emit', function (this: object, event: unknown, ...args: unknown[]) { emitLater(this, String(event), args); });
  hidden(proto, 'removeListener', function (this: object, event: unknown, fn: unknown) {
    const k = listenersKey(String(event));
    const l = listenersOf(this, String(event));
    if (l === fn) { delete (this as Record<string, unknown>)[k]; return; }
    if (!Array.isArray(l)) return;
    const i = l.indexOf(fn);
    if (i < 0) return;
    delete l[i];
    if (i === l.length - 1) l.length = i;
  });
  hidden(proto, 'removeAllListeners', function (this: Record<string, unknown>, event?: unknown) {
    if (event === undefined) {
      for (const k of Object.keys(this)) if (k.startsWith('#on')) delete this[k];
    } else delete this[listenersKey(String(event))];
  });
}
