/**
 * Everything a new context gets before any device code runs: the language, the event
 * emitter, then one installer per Espruino API (each in its own module).
 */

import { installBootApi } from './boot.ts';
import { createWifi, installChip } from './chip.ts';
import { installConsole } from './console.ts';
import { createCrypto, installBase64 } from './crypto.ts';
import { installE } from './espruino-e.ts';
import { installEvents } from './events.ts';
import type { Flash } from './flash-memory.ts';
import { createHttp, type HttpHost } from './http.ts';
import { installLanguage } from './language.ts';
import { installModules } from './modules.ts';
import { installProcess } from './process.ts';
import type { BoardProfile } from './profiles.ts';
import type { Realm } from './realm.ts';
import type { Session } from './session.ts';
import { createStorage, type StorageProbe } from './storage.ts';
import { StorageViews, trackSlices } from './storage-views.ts';
import { StoredCode } from './stored-code.ts';
import { installTimers, type BoardClock } from './timers.ts';
import { installUrl } from './url.ts';

/** What the board gives the APIs of one context. */
export interface GlobalsHost {
  profile: BoardProfile;
  flash: Flash;
  serial: string;
  clock: BoardClock;
  println(line: string): void;
  /** report an exception that escaped device code */
  uncaught(e: unknown): void;
  /** E.reboot() after its 'kill' handlers: never returns */
  reboot(): never;
  compacted(): void;
  storageProbe(): StorageProbe | null | undefined;
  /** the Espruino-fidelity pass (syntax.ts) over code of the board, guarded with `guardId` if given */
  prepare(code: string, filename: string, guardId?: number): string;
  /** ESP8266 boards: a Storage.write from a view into Storage resets the board (storage.ts) */
  flashSourceReset?(detail: string): never;
  httpHost(): HttpHost;
  resetReason(): string;
  /** run a device callback at the next idle pass */
  later(f: () => void): void;
}

/** What the board keeps of a context's APIs. */
export interface ContextApis {
  /** ties code run from Storage files to them */
  storedCode: StoredCode;
}

export function installGlobals(realm: Realm, s: Session, host: GlobalsHost): ContextApis {
  const { profile, flash } = host;
  const views = new StorageViews(flash);
  installLanguage(realm, () => host.clock.epochMs + host.clock.now());
  trackSlices(realm.g, views);
  const storedCode = new StoredCode(realm, { flash, views, prepare: host.prepare });
  installEvents(realm, { ctx: s.ctx, queue: host.later });
  installConsole(realm, host.println);
  installTimers(realm, s, host.clock);
  installBase64(realm);
  installProcess(realm, profile, host.serial);
  installUrl(realm);
  installBootApi(realm, s, flash);
  installE(realm, s, {
    flash, views, isLinux: profile.ota.board === 'LINUX', println: host.println, uncaught: host.uncaught, reboot: host.reboot,
  });

  const builtins = new Map<string, () => object | undefined>([
    ['Storage', () => createStorage(realm, {
      flash, views, probe: host.storageProbe, compacted: host.compacted, flashSourceReset: host.flashSourceReset,
    })],
    ['http', () => createHttp(host.httpHost())],
    ['crypto', () => createCrypto(realm, profile)],
    ['Wifi', () => createWifi(realm, profile, host)],
  ]);
  const made = new Map<string, object | undefined>();
  installModules(realm, s, {
    flash,
    prepare: (code, name) => host.prepare(code, name, storedCode.guardFor(name)),
    prepareRam: (code, name) => host.prepare(code, name),
    builtin(name) {
      const make = builtins.get(name);
      if (!make) return undefined;
      // one object per context, also after Modules.removeCached()
      if (!made.has(name)) made.set(name, make());
      return made.get(name);
    },
  });
  installChip(realm, profile, host);
  return { storedCode };
}
