/**
 * `require("crypto")` (the hashes the board has: SHA1 on ESP8266_4MB, SHA1-512 on ESP32 and
 * Linux, none on ESP8266_BOARD) and the global base64 functions `btoa`/`atob`.
 */

import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { Realm } from './realm.ts';
import type { BoardProfile } from './profiles.ts';
import { flatBytes, latin1 } from './values.ts';

const NODE_ALGORITHM: Record<string, string> = { SHA1: 'sha1', SHA224: 'sha224', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

/** The crypto module object, or undefined when the board has none. */
export function createCrypto(realm: Realm, profile: BoardProfile): object | undefined {
  if (!profile.ota.crypto) return undefined;
  const c = new realm.g.Object();
  for (const h of profile.ota.hashes) {
    const a = NODE_ALGORITHM[h];
    if (a) c[h] = realm.fn((v: unknown) => realm.ab(createHash(a).update(flatBytes(v) ?? new Uint8Array(0)).digest()));
  }
  return c;
}

/** base64 over 8-bit binary strings */
export function installBase64(realm: Realm): void {
  realm.define('btoa', realm.fn((v: unknown) => Buffer.from(latin1(String(v))).toString('base64')));
  realm.define('atob', realm.fn((v: unknown) => Buffer.from(String(v), 'base64').toString('latin1')));
}
