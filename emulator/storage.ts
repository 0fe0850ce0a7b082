/**
 * `require("Storage")`, the device API over the flash chip model (flash-memory.ts): values
 * from device code become bytes following Espruino's rules, and flash errors become
 * exceptions of the device's realm.
 */

import { StorageError, type Flash } from './flash-memory.ts';
import { parseEspruinoJson, stringifyCompact } from './json.ts';
import type { Realm } from './realm.ts';
import type { StorageViews } from './storage-views.ts';
import { isArrayBuffer, isView, latin1, toBytes } from './values.ts';

/** Bench instrumentation (default off): sees what crosses the Storage API of device code. */
export interface StorageProbe {
  read?(name: string, value: string | undefined): void;
  write?(name: string, data: unknown): void;
}

export interface StorageHost {
  flash: Flash;
  views: StorageViews;
  probe(): StorageProbe | null | undefined;
  /** a compaction ran (logged as a board event) */
  compacted(): void;
  /**
   * Set on ESP8266 boards: a write whose data is a view into Storage resets the board here
   * (`detail` says why); never returns.
   */
  flashSourceReset?(detail: string): never;
}

/** Runs a flash operation; its StorageError becomes an exception of the device's realm (a power cut stays a PowerCut). */
export function storageCall<T>(realm: Realm, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StorageError) throw realm.err(e.jsType, e.message);
    throw e;
  }
}

/**
 * The bytes of a write that jshFlashWriteAligned (src/jshardware_common.c) hands to the flash
 * driver straight from the data's own pointer: a partial first word (offset not a multiple of
 * 4) and a partial last word go through a copy on the stack, the words between do not.
 */
export function bytesWrittenFromSource(offset: number, length: number): number {
  const misaligned = offset & 3;
  const head = misaligned ? Math.min(4 - misaligned, length) : 0;
  return (length - head) & ~3;
}

export function createStorage(realm: Realm, host: StorageHost): object {
  const { fn, err, arr, obj, toCtx, ab, g } = realm;
  const { flash, views } = host;

  /**
   * On ESP8266 the SDK's spi_flash_write reads its source with the flash cache off, so a source
   * in memory-mapped flash faults and the chip resets (targets/esp8266/jshardware.c passes the
   * pointer through; Espruino issues #1457, #1912). A view's data reaches it unless the write
   * is skipped (identical content) or fails first; the header and the delete of a replaced file
   * have landed by then, as on the board.
   */
  const sourceCheck = (name: string, data: unknown) => {
    const reset = host.flashSourceReset;
    if (!reset || !views.origin(data)) return undefined;
    return (offset: number, length: number) => {
      if (bytesWrittenFromSource(offset, length) > 0) {
        reset(`Storage.write(${JSON.stringify(name)}) from a view into Storage: the ESP8266 SDK's flash write cannot read flash (Espruino #1457, #1912)`);
      }
    };
  };
  const call = <T>(f: () => T) => storageCall(realm, f);
  const dataBytes = (data: unknown): Uint8Array => {
    if (data === undefined) throw err('Error', "Can't get pointer to data to write");
    if (data === null) throw err('TypeError', 'Expecting Number or iterable, got null');
    const b = toBytes(data);
    if (!b) throw err('TypeError', `Expecting Number or iterable, got ${typeof data}`);
    return b;
  };
  const isPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !isView(v) && !isArrayBuffer(v);
  return obj({
    read: fn((name: unknown, offset?: unknown, length?: unknown) => {
      const r = flash.read(String(name), Number(offset) || 0, Number(length) || 0);
      host.probe()?.read?.(String(name), r);
      views.readString(String(name), r);
      return r;
    }),
    readArrayBuffer: fn((name: unknown) => {
      const b = flash.readBytes(String(name));
      const r = b === undefined ? undefined : ab(b);
      views.readBuffer(String(name), r);
      return r;
    }),
    readJSON: fn((name: unknown, noExceptions?: unknown) => {
      const text = flash.read(String(name));
      if (text === undefined) return undefined;
      try {
        return toCtx(parseEspruinoJson(text, true));
      } catch (e) {
        if (noExceptions) return undefined;
        if (e instanceof StorageError) throw err(e.jsType, e.message);
        throw e;
      }
    }),
    write: fn((name: unknown, data?: unknown, offset?: unknown, size?: unknown) => {
      host.probe()?.write?.(String(name), data);
      if (isPlainObject(data)) return call(() => flash.write(String(name), latin1(g.JSON.stringify(data))));
      const bytes = dataBytes(data);
      const check = sourceCheck(String(name), data);
      return call(() => flash.write(String(name), bytes, Number(offset) || 0, Number(size) || 0, check));
    }),
    writeJSON: fn((name: unknown, data: unknown) => {
      const text = stringifyCompact(data);
      host.probe()?.write?.(String(name), text);
      return call(() => flash.write(String(name), dataBytes(text)));
    }),
    erase: fn((name: unknown) => { call(() => flash.erase(String(name))); }),
    eraseAll: fn(() => { call(() => flash.eraseAll()); }),
    compact: fn(() => { call(() => flash.compact()); host.compacted(); }),
    getFree: fn(() => flash.getFree()),
    getStats: fn(() => obj({ ...flash.getStats() })),
    list: fn((filter?: unknown, opts?: { sf?: boolean }) => {
      let names = flash.list();
      if (opts && opts.sf === false) names = names.filter((n) => !/[\x01-\xff]$/.test(n) || !isStorageFileChunk(n, names));
      const keep = nameFilter(filter);
      return arr(keep ? names.filter(keep) : names);
    }),
    hash: fn((filter?: unknown) => flash.hash(nameFilter(filter))),
    optimise: fn(() => undefined),
    debug: fn(() => undefined),
    open: fn(() => { throw err('Error', 'Storage.open (StorageFile) is not emulated'); }),
  });
}

/**
 * The filter of list() and hash(): the firmware keeps a name when `name.match(filter)` is
 * truthy. Espruino's match() with a `g` flag returns an array (empty when nothing matches),
 * so such a RegExp keeps every name; a string is a substring (not a pattern), anything else a
 * string too; null matches nothing; undefined means no filter (golden probe 53).
 */
function nameFilter(filter: unknown): ((name: string) => boolean) | undefined {
  if (filter === undefined) return undefined;
  if (filter === null) return () => false;
  if (isRegExp(filter)) {
    const r = filter as RegExp;
    if (r.global) return () => true;
    return (n) => { r.lastIndex = 0; return r.test(n); };
  }
  const text = String(filter);
  return (n) => n.includes(text);
}

const isRegExp = (v: unknown): boolean => Object.prototype.toString.call(v) === '[object RegExp]';

function isStorageFileChunk(n: string, all: string[]): boolean {
  const base = n.slice(0, -1);
  return all.includes(base + '\x01');
}
