/**
 * The `process` object (env, version, memory), `getSerial()`, and what becomes of an uncaught
 * exception (the 'uncaughtException' listeners of `process`).
 */

import { createHash } from 'node:crypto';
import { fireListeners, listenerCount, listenersOf } from './events.ts';
import type { Realm } from './realm.ts';
import type { BoardProfile } from './profiles.ts';
import { isSignal, type Session } from './session.ts';
import { errorText } from './values.ts';

/** A stable serial per board name, unless the board options give one. */
export function defaultSerial(board: string): string {
  return createHash('sha1').update(board).digest('hex').slice(0, 12);
}

/**
 * The message of the calls that would report RAM (process.memory()'s figures, E.getSizeOf(),
 * ESP32.getState()): the emulator does not model JsVars, and an invented figure must not reach
 * a test, a benchmark or the README, so these throw instead.
 */
export const notEmulated = (call: string): string =>
  `${call} is not emulated: the emulator does not count JsVars or heap. Measure on the real interpreter (ESPRUINO_BIN) or a board.`;

export function installProcess(realm: Realm, profile: BoardProfile, serial: string): void {
  const { fn, obj, define } = realm;
  define('getSerial', fn(() => serial));
  const env = obj({
    VERSION: profile.info.binary_version, BOARD: profile.ota.board, STORAGE: profile.ota.storageBytes,
    SERIAL: serial, CONSOLE: 'Serial1', MODULES: profile.info.builtin_modules.join(','),
  });
  define('process', obj({
    env, version: profile.info.binary_version,
    // Device code calls it for its garbage collection alone (update.ts, at each step),
    // which has nothing to do here; reading any figure of what it returns throws.
    memory: fn(() => {
      const figures = new realm.g.Object();
      for (const name of ['free', 'usage', 'total', 'history', 'gc', 'gctime', 'blocksize']) {
        Object.defineProperty(figures, name, {
          enumerable: true,
          get: fn(() => { throw realm.err('Error', notEmulated(`process.memory().${name}`)); }),
        });
      }
      return figures;
    }),
  }));
}

export interface UncaughtOutcome {
  /** text printed after "Uncaught " (the error, or the error a listener threw), if any */
  printed?: string;
  /** the error went to listeners that are all gone: nothing printed (text for the board log) */
  dropped?: string;
}

/**
 * jsiCheckErrors: what happens to an exception no code caught. With a
 * process["#onuncaughtException"] property the listeners get it, and there is no "Uncaught"
 * line, even when removeListener left that array empty (errors are then dropped without a
 * word until removeAllListeners deletes it, or a reboot); a listener that throws has its own
 * error printed, is not called for it, and stays (golden probes 50 and 66).
 */
export function dispatchUncaught(s: Session, e: unknown): UncaughtOutcome {
  const proc = s.g.process as object | undefined;
  const listeners = proc ? listenersOf(proc, 'uncaughtException') : undefined;
  if (listeners === undefined) return { printed: errorText(e) };
  try {
    fireListeners(s.ctx, undefined, listeners, [e]);
  } catch (thrown) {
    if (isSignal(thrown)) throw thrown;
    return { printed: errorText(thrown) };
  }
  return listenerCount(proc!, 'uncaughtException') ? {} : { dropped: errorText(e) };
}
