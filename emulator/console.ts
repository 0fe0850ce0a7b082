/**
 * The console: `print` and `console.log` & co. write one line each, Espruino style
 * (strings as they are, other values in Espruino's pretty form, see values.ts).
 */

import type { Realm } from './realm.ts';
import { formatValue } from './values.ts';

export function installConsole(realm: Realm, println: (line: string) => void): void {
  const print = realm.fn((...args: unknown[]) => { println(args.map((a) => formatValue(a)).join(' ')); });
  realm.define('print', print);
  realm.define('console', realm.obj({ log: print, info: print, warn: print, error: print, debug: print, trace: print }));
}
