/**
 * Values that are views into Storage, and what the emulator can model of them.
 *
 * On the real interpreter `Storage.read()` returns a string that points into flash (a
 * memory-mapped NativeString on ESP32/ESP8266, a FlashString on Linux), and so do strings made
 * from it without copying: `E.toString(s)` (one string in: the same string out,
 * `jswrap_espruino_toStringX`), `s.substr/substring/slice`, `E.toString(new Uint8Array(
 * E.toArrayBuffer(s)))`; `Storage.readArrayBuffer()` gives an ArrayBuffer over flash, and typed
 * arrays on it share it. `"" + s` and `E.toUint8Array(s)` copy into RAM (golden probe 49).
 *
 * What follows from that, and how much the emulator models:
 * - A later write at an offset shows through a view, and after the file is erased or replaced
 *   the view reads `null`. NOT modelled: a V8 string is a primitive that cannot change or become
 *   null, so a view here keeps the bytes it had when it was read (probe 49 is listed in
 *   test/golden.test.ts as V8-impossible).
 * - On ESP8266 a `Storage.write` whose data is a view hands the SDK's flash write a source in
 *   flash, and the board resets (Espruino issues #1457, #1912; storage.ts models the reset).
 *   ArrayBuffers are objects, so a buffer from readArrayBuffer (and typed arrays on it) are
 *   known exactly. Strings are not: V8 gives a primitive string no identity, so the emulator
 *   knows a string only by its content. THE STRICTER READING: any string whose content equals
 *   a view's (read, or derived as above, in this boot of the board) counts as a view, including
 *   a real copy such as `"" + s` or `E.toString(E.toUint8Array(s))` of the same bytes. Device
 *   code that must copy a piece of flash into RAM before writing it should pass the Uint8Array
 *   of `E.toUint8Array(s)` itself, which is a copy on the board and is never a view here.
 * - Code evaluated from a view keeps its function bodies in flash (stored-code.ts): the
 *   content of an eval'd string tells which file it came from.
 * A view's origin is the file and its Flash.generation() when it was read.
 */

import { Flash } from './flash-memory.ts';
import { isArrayBuffer, isView } from './values.ts';

export interface ViewOrigin {
  /** Flash.nameKey of the file */
  key: string;
  /** Flash.generation of the file when it was read */
  generation: string;
}

/** Bounds on the strings remembered per boot (oldest forgotten first). */
const MAX_STRINGS = 20_000;
const MAX_CHARS = 32 * 1024 * 1024;

/** The views handed out in one context (one boot of the board). */
export class StorageViews {
  private strings = new Map<string, ViewOrigin>();
  private chars = 0;
  private buffers = new WeakMap<object, ViewOrigin>();

  constructor(private readonly flash: Flash) {}

  /** Storage.read(name) returned `s`. */
  readString(name: string, s: string | undefined): void {
    if (s) this.noteString(s, this.originOf(name));
  }

  /** Storage.readArrayBuffer(name) returned `ab`. */
  readBuffer(name: string, ab: object | undefined): void {
    if (ab) this.buffers.set(ab, this.originOf(name));
  }

  /** `derived` was made from `source` without a copy (substr, E.toString...): a view too if `source` is. */
  derive(source: unknown, derived: unknown): void {
    const origin = this.origin(source);
    if (!origin) return;
    if (typeof derived === 'string') { if (derived) this.noteString(derived, origin); }
    else if (derived && typeof derived === 'object') this.buffers.set(isView(derived) ? derived.buffer : derived, origin);
  }

  /** Where a view came from; undefined for a value that is not a view. */
  origin(v: unknown): ViewOrigin | undefined {
    if (typeof v === 'string') return this.strings.get(v);
    if (isArrayBuffer(v)) return this.buffers.get(v);
    if (isView(v)) return this.buffers.get(v.buffer);
    return undefined;
  }

  private originOf(name: string): ViewOrigin {
    const key = Flash.nameKey(name);
    return { key, generation: this.flash.generation(key) };
  }

  private noteString(s: string, origin: ViewOrigin): void {
    const had = this.strings.get(s);
    if (had) this.strings.delete(s); // refreshed: now the newest
    else this.chars += s.length;
    this.strings.set(s, origin);
    while (this.strings.size > MAX_STRINGS || this.chars > MAX_CHARS) {
      const oldest = this.strings.keys().next().value!;
      this.strings.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

/** String methods that return part of a string without copying it on the board. */
const SLICING_METHODS = ['substr', 'substring', 'slice'];

/** Strings cut from a view are views too. */
export function trackSlices(g: any, views: StorageViews): void {
  const proto = g.String.prototype;
  for (const m of SLICING_METHODS) {
    const original = proto[m] as (...a: unknown[]) => string;
    Object.defineProperty(proto, m, {
      value: function (this: string, ...a: unknown[]) {
        const r = original.apply(this, a);
        views.derive(String(this), r);
        return r;
      },
      writable: true, configurable: true, enumerable: false,
    });
  }
}
