/**
 * Building values in a board's JS context from host code. Objects, arrays and errors must be
 * made with the context's own constructors (`instanceof Array` in device code would fail on
 * a host array), and every API function checks that its context is still alive, so code that
 * keeps running after a reboot or power cut unwinds instead of touching the board.
 */

/** A host function callable by device code. */
export type DeviceFn = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) => R;

export interface Realm {
  /** the context's global object */
  g: any;
  fn: DeviceFn;
  /** an error of one of the context's classes (Error, TypeError, InternalError...) */
  err(type: string, msg: string): any;
  arr(xs: unknown[]): any;
  obj(o: Record<string, unknown>): any;
  /** a JSON-able host value as a context value */
  toCtx(v: unknown): any;
  /** host bytes as a context ArrayBuffer (a copy) */
  ab(bytes: Uint8Array): any;
  /** a global, not enumerable (Espruino's built-ins do not show in Object.keys(global)) */
  define(name: string, v: unknown): void;
}

export function createRealm(g: any, checkAlive: () => void): Realm {
  // The context's own JSON.parse, taken before the prelude replaces it with Espruino's.
  const parse = g.JSON.parse as (s: string) => unknown;
  return {
    g,
    fn: <A extends unknown[], R>(f: (...a: A) => R) =>
      function (this: unknown, ...a: A): R { checkAlive(); return f.apply(this, a); },
    err: (type, msg) => new g[type](msg),
    arr: (xs) => { const a = new g.Array(); for (const x of xs) a.push(x); return a; },
    obj: (o) => { const r = new g.Object(); for (const k of Object.keys(o)) r[k] = o[k]; return r; },
    toCtx: (v) => (v === undefined ? undefined : parse(JSON.stringify(v))),
    ab: (bytes) => { const b = new g.ArrayBuffer(bytes.length); new g.Uint8Array(b).set(bytes); return b; },
    define: (name, v) =>
      Object.defineProperty(g, name, { value: v, writable: true, configurable: true, enumerable: false }),
  };
}
