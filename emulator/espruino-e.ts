/**
 * The `E` object: reboot, conversions between strings and bytes, CRC32, flags, boot code, and
 * the watchdog calls a board offers (no-ops here). E.getSizeOf() throws: RAM is not modelled.
 */

import { randomInt } from 'node:crypto';
import { fireEvent } from './events.ts';
import type { Flash } from './flash-memory.ts';
import { stringifyCompact } from './json.ts';
import type { Realm } from './realm.ts';
import type { StorageViews } from './storage-views.ts';
import { isSignal, type Session } from './session.ts';
import { notEmulated } from './process.ts';
import { storageCall } from './storage.ts';
import { bytesToLatin1, crc32, flatBytes, iterateBytes, latin1 } from './values.ts';

export interface EHost {
  flash: Flash;
  views: StorageViews;
  /** E.reboot(): runs after the 'kill' handlers; never returns */
  reboot(): never;
  /** Linux prints "Not implemented" on E.reboot() */
  isLinux: boolean;
  println(line: string): void;
  uncaught(e: unknown): void;
}

export function installE(realm: Realm, s: Session, host: EHost): void {
  const { fn, obj, arr, ab, g } = realm;
  const E = obj({
    reboot: fn(() => {
      if (host.isLinux) host.println('Not implemented');
      try { fireEvent(s.ctx, E, 'kill', []); } catch (e) { if (!isSignal(e)) host.uncaught(e); }
      return host.reboot();
    }),
    CRC32: fn((v: unknown) => crc32(flatBytes(v) ?? [])),
    // One string in: that same string out, no copy (jswrap_espruino_toStringX), so a view into
    // Storage stays one; so does the string of a typed array over a view (storage-views.ts).
    toString: fn((...a: unknown[]) => {
      const r = a.length === 1 && typeof a[0] === 'string' ? a[0].replace(/[^\x00-\xff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 0xff))
        : bytesToLatin1(Uint8Array.from(iterateBytes(a.length === 1 ? a[0] : a) ?? []));
      if (a.length === 1) host.views.derive(a[0], r);
      return r;
    }),
    // a copy in RAM: never a view
    toUint8Array: fn((...a: unknown[]) => new g.Uint8Array(ab(Uint8Array.from(iterateBytes(a.length === 1 ? a[0] : a) ?? [])))),
    // an ArrayBuffer over the string itself: a view of a view
    toArrayBuffer: fn((v: unknown) => {
      const r = ab(latin1(String(v)));
      host.views.derive(v, r);
      return r;
    }),
    toJS: fn((v: unknown) => stringifyCompact(v)),
    getSizeOf: fn(() => { throw realm.err('Error', notEmulated('E.getSizeOf()')); }),
    setFlags: fn((f: Record<string, unknown>) => { for (const k of Object.keys(f ?? {})) s.flags[k] = Number(f[k]) ? 1 : 0; }),
    getFlags: fn(() => obj({ ...s.flags })),
    enableWatchdog: fn(() => undefined),
    kickWatchdog: fn(() => undefined),
    getErrorFlags: fn(() => arr([])),
    defrag: fn(() => undefined),
    hwRand: fn(() => randomInt(0, 2 ** 32 - 1) | 0),
    setBootCode: fn((code: unknown, always?: unknown) => {
      host.flash.erase('.bootcde');
      host.flash.erase('.bootrst');
      const c = code === undefined ? '' : String(code);
      if (c.length) storageCall(realm, () => host.flash.write(always ? '.bootrst' : '.bootcde', latin1(c)));
    }),
  });
  realm.define('E', E);
}
