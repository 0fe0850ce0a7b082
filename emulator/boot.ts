/**
 * The boot sequence (`jsiSoftInit` and `jsfLoadBootCodeFromFlash` in the firmware): which
 * Storage files run at each kind of start, and the API that starts one (`load`, `reset`,
 * `save`), which is deferred to the next idle pass as on the board.
 */

import type { Flash } from './flash-memory.ts';
import type { Realm } from './realm.ts';
import type { Session } from './session.ts';

/**
 * - `power`: power-on, E.reboot(), `espruino -e` (eval mode);
 * - `file`: `espruino file.js` (a power-on that runs the file instead of .bootcde);
 * - `load`: load() / load(file);
 * - `reset`: reset().
 */
export type BootMode = 'power' | 'file' | 'load' | 'reset';

/**
 * The Storage files a start runs, in order. Lazy, as the firmware looks each one up just
 * before it runs it: a boot file may create or erase the next ones.
 */
export function* bootFiles(flash: Flash, mode: BootMode, file?: string): Generator<string> {
  const has = (n: string) => flash.find(n) !== undefined;
  // a process start (file or eval mode) is a power-on too (golden probes 55, 56)
  if ((mode === 'power' || mode === 'file') && has('.bootPowerOn')) yield '.bootPowerOn';
  for (const n of ['.boot0', '.boot1', '.boot2', '.boot3']) if (has(n)) yield n;
  if (has('.bootrst')) yield '.bootrst';
  else if ((mode === 'power' || (mode === 'load' && file === undefined)) && has('.bootcde')) yield '.bootcde';
}

/** Whether a start runs E.on('init') handlers and onInit() after its files. */
export const runsInit = (mode: BootMode): boolean => mode !== 'file';

export function installBootApi(realm: Realm, s: Session, flash: Flash): void {
  const { fn, err, define } = realm;
  define('load', fn((file?: unknown) => { s.pending = { kind: 'load', file: file === undefined ? undefined : String(file) }; }));
  define('reset', fn((clear?: unknown) => { s.pending = { kind: 'reset', clear: !!clear }; }));
  define('save', fn(() => {
    if (flash.find('.bootcde')) throw err('Error', 'save() is not allowed when .bootcde exists');
    throw err('Error', 'save() is not emulated');
  }));
}
