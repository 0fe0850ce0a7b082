/**
 * The `process` object (env, version, memory) and `getSerial()`.
 */

import { createHash } from 'node:crypto';
import type { Realm } from './realm.ts';
import type { BoardProfile } from './profiles.ts';
import type { Session } from './session.ts';

/** A stable serial per board name, unless the board options give one. */
export function defaultSerial(board: string): string {
  return createHash('sha1').update(board).digest('hex').slice(0, 12);
}

export function installProcess(realm: Realm, s: Session, profile: BoardProfile, serial: string): void {
  const { fn, obj, define } = realm;
  define('getSerial', fn(() => serial));
  const env = obj({
    VERSION: profile.info.binary_version, BOARD: profile.ota.board, STORAGE: profile.ota.storageBytes,
    SERIAL: serial, CONSOLE: 'Serial1', MODULES: profile.info.builtin_modules.join(','),
  });
  define('process', obj({
    env, version: profile.info.binary_version,
    memory: fn(() => {
      const total = profile.ota.variables || 16000;
      const usage = Math.min(total, 1500 + s.modules.size * 200);
      return obj({ free: total - usage, usage, total, history: 0, gc: 0, gctime: 0, blocksize: profile.ota.varBytes });
    }),
  }));
}
