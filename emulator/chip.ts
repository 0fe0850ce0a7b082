/**
 * What the ESP chips add: the `ESP8266` / `ESP32` objects (ESP32.getState() throws: its heap
 * figures are not modelled) and `require("Wifi")`, which is always connected here (the
 * station is up before boot code runs).
 */

import type { Realm } from './realm.ts';
import { notEmulated } from './process.ts';
import type { BoardProfile } from './profiles.ts';

export interface ChipHost {
  /** ESP8266.getResetInfo().reason of this start */
  resetReason(): string;
  /** run a device callback at the next idle pass */
  later(f: () => void): void;
}

export function installChip(realm: Realm, profile: BoardProfile, host: ChipHost): void {
  const { fn, obj, define, g } = realm;
  const reboot = (g.E as { reboot: Function }).reboot;
  if (profile.chip.family === 'ESP8266') {
    define('ESP8266', obj({ getResetInfo: fn(() => obj({ reason: host.resetReason() })), reboot }));
  }
  if (profile.chip.family === 'ESP32') {
    define('ESP32', obj({
      getState: fn(() => { throw realm.err('Error', notEmulated('ESP32.getState()')); }),
      reboot,
    }));
  }
}

/** `require("Wifi")`, or undefined when the board has no Wifi module. */
export function createWifi(realm: Realm, profile: BoardProfile, host: ChipHost): object | undefined {
  if (!profile.info.builtin_modules.includes('Wifi')) return undefined;
  const { fn, obj, g } = realm;
  const ip = () => obj({ ip: '192.168.1.50', netmask: '255.255.255.0', gw: '192.168.1.1', mac: '30:ae:a4:00:00:01' });
  const later = (cb: unknown, ...args: unknown[]) => {
    if (typeof cb === 'function') host.later(() => (cb as Function)(...args));
  };
  return obj({
    connect: fn((_ssid: unknown, _o: unknown, cb?: unknown) => later(cb, null)),
    disconnect: fn((cb?: unknown) => later(cb)),
    getIP: fn((cb?: unknown) => { const r = ip(); later(cb, null, r); return r; }),
    getStatus: fn(() => obj({ station: 'connected', ap: 'disabled', mode: 'sta' })),
    getDetails: fn((cb?: unknown) => { const r = obj({ status: 'connected', ssid: 'emulator' }); later(cb, r); return r; }),
    setHostname: fn(() => undefined),
    save: fn(() => undefined),
    restore: fn(() => undefined),
    scan: fn((cb?: unknown) => later(cb, null, new g.Array())),
  });
}
