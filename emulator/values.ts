/**
 * Conversions between device values (from any realm) and host bytes, following Espruino's
 * jsvIterateCallback rules: strings are 8-bit, numbers are ONE byte, arrays are flattened with
 * `& 255`, typed arrays/ArrayBuffers give their raw bytes.
 */

import { crc32 as zlibCrc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
import { escapeString } from './json.ts';

const tag = (v: unknown): string => Object.prototype.toString.call(v);
export const isArrayBuffer = (v: unknown): v is ArrayBuffer => tag(v) === '[object ArrayBuffer]';
export const isView = (v: unknown): v is ArrayBufferView =>
  typeof v === 'object' && v !== null && ArrayBuffer.isView(v);

export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  // Node's latin1 encoder keeps the low byte of each UTF-16 unit: charCodeAt(i) & 0xff.
  if (s.length) Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(s, 'latin1');
  return out;
}

export function bytesToLatin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Flatten a device value into bytes; undefined when it is not iterable. */
export function iterateBytes(v: unknown): number[] | undefined {
  const out: number[] = [];
  const walk = (x: unknown): boolean => {
    if (typeof x === 'string') { for (let i = 0; i < x.length; i++) out.push(x.charCodeAt(i) & 0xff); return true; }
    if (typeof x === 'number') { out.push(x & 0xff); return true; }
    if (typeof x === 'boolean') { out.push(x ? 1 : 0); return true; }
    if (isArrayBuffer(x)) { out.push(...new Uint8Array(x)); return true; }
    if (isView(x)) { out.push(...new Uint8Array(x.buffer, x.byteOffset, x.byteLength)); return true; }
    if (Array.isArray(x)) { for (const e of x) if (!walk(e)) out.push(0); return true; }
    if (x && typeof x === 'object' && 'data' in x) { // E.toUint8Array({data, count})
      const o = x as { data: unknown; count?: number };
      const n = typeof o.count === 'number' ? o.count : 1;
      for (let i = 0; i < n; i++) walk(o.data);
      return true;
    }
    return false;
  };
  return walk(v) ? out : undefined;
}

/** iterateBytes as a Uint8Array, without a per-byte array for strings and binary data. */
export function flatBytes(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') return latin1(v);
  if (isArrayBuffer(v)) return new Uint8Array(v);
  if (isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const arr = iterateBytes(v);
  return arr ? Uint8Array.from(arr) : undefined;
}

export function toBytes(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') return latin1(v);
  if (isArrayBuffer(v)) return new Uint8Array(v.slice(0));
  if (isView(v)) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const arr = iterateBytes(v);
  return arr ? Uint8Array.from(arr) : undefined;
}

/** How print()/console.log render a value (Espruino's pretty JSON-ish form). */
export function formatValue(v: unknown, nested = false, seen = new Set<unknown>()): string {
  if (typeof v === 'string') return nested ? escapeString(v) : v;
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return String(v);
  if (typeof v !== 'object') return String(v);
  if (seen.has(v)) return '~';
  seen.add(v);
  try {
    const o = v as Record<string, unknown>;
    if (typeof o.message === 'string' && typeof o.name === 'string' || tag(v) === '[object Error]') return String(v);
    if (isView(v)) {
      const name = Object.getPrototypeOf(v)?.constructor?.name ?? 'Uint8Array';
      return `new ${name}([${Array.prototype.join.call(v, ', ')}])`;
    }
    if (isArrayBuffer(v)) return `new ArrayBuffer(${v.byteLength})`;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[ ]';
      return '[ ' + v.map((e) => formatValue(e, true, seen)).join(', ') + ' ]';
    }
    const keys = Object.keys(o);
    if (keys.length === 0) return '{ }';
    return '{ ' + keys.map((k) => escapeString(k) + ': ' + formatValue(o[k], true, seen)).join(', ') + ' }';
  } finally {
    seen.delete(v);
  }
}

/** Text after "Uncaught ": Error-like values as String(e), the rest formatted. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { name?: unknown; message?: unknown };
    if (typeof o.message === 'string' || tag(e) === '[object Error]') {
      try { return String(e); } catch { /* fall through */ }
    }
  }
  return formatValue(e);
}

/** CRC-32 (zlib polynomial), as E.CRC32. */
export function crc32(bytes: ArrayLike<number>): number {
  return zlibCrc32(Uint8Array.from(bytes)) >>> 0;
}
