/**
 * The language a board's context offers: V8 minus what Espruino lacks, plus what Espruino
 * adds at global level (`global`, `InternalError`), with `Date` driven by the board clock and
 * `JSON.parse` as Espruino's reader (json.ts). Runs once on each new context, before any
 * device code.
 */

import { StorageError } from './flash-memory.ts';
import { parseEspruinoJson } from './json.ts';
import type { Realm } from './realm.ts';

/** Globals V8 has and Espruino 2v29 does not. */
const MISSING_GLOBALS = ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'Proxy', 'Reflect', 'BigInt', 'BigInt64Array',
  'BigUint64Array', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'Intl', 'WebAssembly',
  'AggregateError', 'TextEncoder', 'TextDecoder', 'queueMicrotask', 'structuredClone', 'escape', 'unescape'];

/** Members of built-ins V8 has and Espruino 2v29 does not, by owner. */
const MISSING_MEMBERS: Array<[string, string[]]> = [
  ['Array', ['from', 'of']],
  ['Array.prototype', ['lastIndexOf', 'flat', 'flatMap', 'keys', 'values', 'entries', 'at', 'findLast', 'findLastIndex',
    'copyWithin', 'toReversed', 'toSorted', 'toSpliced', 'with']],
  ['Promise.prototype', ['finally']],
  ['Promise', ['race', 'allSettled', 'any', 'withResolvers']],
  ['Number', ['isInteger', 'isSafeInteger', 'isNaN', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER']],
  ['Math', ['trunc', 'cbrt', 'expm1', 'log1p', 'fround', 'clz32', 'imul', 'hypot']],
  ['Object', ['freeze', 'seal', 'isFrozen', 'isSealed', 'preventExtensions', 'isExtensible', 'groupBy']],
  ['String.prototype', ['trimStart', 'trimEnd', 'trimLeft', 'trimRight', 'at', 'matchAll', 'normalize', 'codePointAt',
    'isWellFormed', 'toWellFormed']],
  ['String', ['raw', 'fromCodePoint']],
];

/** A property device code can use but not enumerate. */
export function hidden(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: false });
}

export function installLanguage(realm: Realm, nowMs: () => number): void {
  const g = realm.g;
  // Reflect.deleteProperty: the few that V8 makes non-configurable (Number.EPSILON...) stay.
  for (const n of MISSING_GLOBALS) Reflect.deleteProperty(g, n);
  for (const [path, names] of MISSING_MEMBERS) {
    const owner = path.split('.').reduce((o, k) => o[k], g);
    for (const n of names) Reflect.deleteProperty(owner, n);
  }
  installDate(g, nowMs);
  g.global = g;
  installInternalError(g);
  // JSON.stringify(undefined) is the string "null" on Espruino (golden probes 44, 59); the rest
  // of its output is V8's (it differs for bytes >= 0x7F, which Espruino escapes as \u00XX).
  const stringify = g.JSON.stringify as (...a: unknown[]) => unknown;
  hidden(g.JSON, 'stringify', realm.fn((...a: unknown[]) => (a[0] === undefined ? 'null' : stringify(...a))));
  hidden(g.JSON, 'parse', realm.fn((text: unknown) => {
    try {
      return realm.toCtx(parseEspruinoJson(String(text), false));
    } catch (e) {
      if (e instanceof StorageError) throw realm.err(e.jsType, e.message);
      throw e;
    }
  }));
}

/** `Date` on the board clock: `new Date()`, `Date()` and `Date.now()` read it. */
function installDate(g: any, nowMs: () => number): void {
  const D = g.Date;
  function EDate(this: unknown, ...a: unknown[]): unknown {
    if (!(this instanceof EDate)) return new D(nowMs()).toString();
    switch (a.length) {
      case 0: return new D(nowMs());
      case 1: return new D(a[0]);
      default: return new D(a[0], a[1], a[2] === undefined ? 1 : a[2], a[3] || 0, a[4] || 0, a[5] || 0, a[6] || 0);
    }
  }
  EDate.prototype = D.prototype;
  hidden(D.prototype, 'constructor', EDate);
  hidden(EDate, 'now', () => nowMs());
  hidden(EDate, 'parse', D.parse);
  hidden(EDate, 'UTC', D.UTC);
  g.Date = EDate;
}

/**
 * Espruino's InternalError (what a failed connection throws). Not a subclass of Error there:
 * `e instanceof Error` is false (golden probe 62), so its prototype is a plain object with
 * Error's `toString` ("InternalError: <message>").
 */
function installInternalError(g: any): void {
  function InternalError(this: { message?: unknown }, msg: unknown): unknown {
    const e = Object.create(InternalError.prototype);
    if (msg !== undefined) hidden(e, 'message', String(msg));
    return e;
  }
  InternalError.prototype = new g.Object();
  hidden(InternalError.prototype, 'constructor', InternalError);
  hidden(InternalError.prototype, 'name', 'InternalError');
  hidden(InternalError.prototype, 'message', '');
  hidden(InternalError.prototype, 'toString', g.Error.prototype.toString);
  hidden(g, 'InternalError', InternalError);
}
