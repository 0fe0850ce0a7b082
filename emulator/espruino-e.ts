/**
 * The `E` object: reboot, conversions between strings and bytes, CRC32, flags, boot code,
 * and the watchdog and memory calls a board offers (no-ops or stand-ins here).
 */

import { randomInt } from 'node:crypto';
import { fireEvent } from './events.ts';
import type { Flash } from './flash-memory.ts';
import { stringifyCompact } from './json.ts';
import type { Realm } from './realm.ts';
import { isSignal, type Session } from './session.ts';
import { storageCall } from './storage.ts';
import { bytesToLatin1, crc32, flatBytes, iterateBytes, latin1 } from './values.ts';

export interface EHost {
  flash: Flash;
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
      host.flash.erase('.bootcde');
      host.flash.erase('.bootrst');
      const c = code === undefined ? '' : String(code);
      if (c.length) storageCall(realm, () => host.flash.write(always ? '.bootrst' : '.bootcde', latin1(c)));
    }),
  });
  realm.define('E', E);
}
