/**
 * What goes over the wire: the request head exactly as the firmware writes it
 * (`clientRequestWrite`), request bodies as bytes, and response header parsing as the firmware
 * does it (`httpParseHeaders` in `libs/network/http/jswrap_http.c`), including the bug that
 * also parses body lines of the same read (golden probe 30).
 */

import { Buffer } from 'node:buffer';

export interface ParsedHead {
  headers: Array<[string, string]>;
  httpVersion: string;
  statusCode: string;
  statusMessage: string;
}

const isWs = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\v' || ch === '\f';

/**
 * Parse `data` (everything received so far: the header block plus whatever body bytes came in
 * the same reads) the way `httpParseHeaders` does. Returns undefined when there is no blank line
 * yet. The line scan runs over ALL of `data`, so body lines that end in CR and contain ':' become
 * headers too (probe 30).
 */
export function espruinoParseHeaders(data: string): { head: ParsedHead; headerEnd: number } | undefined {
  let nl = 0;
  let headerEnd = -1;
  for (let i = 0; i < data.length; i++) {
    const ch = data[i];
    if (ch === '\r') {
      if (nl === 0) nl = 1;
      else if (nl === 2) nl = 3;
    } else if (ch === '\n') {
      if (nl === 1) nl = 2;
      else if (nl === 3) {
        headerEnd = i + 1;
        break;
      }
    } else nl = 0;
  }
  if (headerEnd < 0) return undefined;
  const headers: Array<[string, string]> = [];
  let firstSpace = -1;
  let secondSpace = -1;
  let firstEOL = -1;
  let lineNumber = 0;
  let lastLineStart = 0;
  let colonPos = 0;
  let valueStart = 0;
  for (let i = 0; i < data.length; i++) {
    const ch = data[i];
    if (ch === ' ' || ch === '\r') {
      if (firstSpace < 0) firstSpace = i;
      else if (secondSpace < 0) secondSpace = i;
    }
    if (ch === ':' && colonPos < 0) colonPos = i;
    else if (colonPos > 0 && !valueStart && !isWs(ch)) valueStart = i;
    if (ch === '\r') {
      if (firstEOL < 0) firstEOL = i;
      if (lineNumber > 0 && colonPos > lastLineStart && valueStart > lastLineStart && lastLineStart < i) {
        headers.push([data.slice(lastLineStart, colonPos), data.slice(valueStart, i)]);
      }
      lineNumber++;
      colonPos = -1;
      valueStart = 0;
    }
    if (ch === '\r' || ch === '\n') lastLineStart = i + 1;
  }
  const sub = (a: number, b: number) => (b > a ? data.slice(a, b) : '');
  return {
    headerEnd,
    head: {
      headers,
      httpVersion: sub(5, firstSpace),
      statusCode: sub(firstSpace + 1, secondSpace),
      statusMessage: sub(secondSpace + 1, firstEOL),
    },
  };
}

/** `jsvObjectGetChildI`: the first header with that name, any case. */
export function headerI(headers: Array<[string, string]>, name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** A request body from device code as bytes (strings are 8-bit). */
export function toLatin1Bytes(data: unknown): Buffer {
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    return Buffer.from(new Uint8Array(data as ArrayBuffer));
  }
  if (ArrayBuffer.isView(data)) {
    const v = data as ArrayBufferView;
    return Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return Buffer.from(String(data), 'latin1');
}

/** JS value to the text Espruino's `%v` / jsvAsString gives (close enough for headers). */
export function asString(v: unknown): string {
  return String(v);
}


const isObjectLike = (v: unknown): v is Record<string, any> =>
  v !== null && (typeof v === 'object' || typeof v === 'function');

export interface RequestHead {
  /** the head as sent: request line, headers, blank line */
  head: string;
  /** the same headers as Node's raw [name, value, ...] list */
  rawList: string[];
  /** `Transfer-Encoding: chunked` was given: writes are chunk-encoded */
  chunked: boolean;
}

/**
 * The request head exactly as clientRequestWrite builds it: `<method> <path> HTTP/1.1`, then
 * `User-Agent: Espruino <VERSION>`, `Connection: close`, the user headers in object order, then
 * `Host: host[:port]` (unless a Host header is given). A missing method is sent as `undefined`.
 */
export function requestHead(opts: Record<string, any>, version: string): RequestHead {
  let head = `${asString(opts.method)} ${asString(opts.path)} HTTP/1.1\r\nUser-Agent: Espruino ${version}\r\nConnection: close\r\n`;
  const headers = opts.headers;
  let hasHost = false;
  let chunked = false;
  const rawList: string[] = ['User-Agent', `Espruino ${version}`, 'Connection', 'close'];
  if (isObjectLike(headers) && !Array.isArray(headers)) {
    hasHost = Object.keys(headers).some((k) => k.toLowerCase() === 'host');
    for (const k of Object.keys(headers)) {
      head += `${k}: ${asString(headers[k])}\r\n`;
      rawList.push(k, asString(headers[k]));
    }
    if (String(headers['Transfer-Encoding']).toLowerCase() === 'chunked') chunked = true;
  }
  if (!hasHost) {
    const optPort = Number(opts.port) | 0;
    const h = optPort > 0 && optPort !== 80 ? `${asString(opts.host)}:${optPort}` : asString(opts.host);
    head += `Host: ${h}\r\n`;
    rawList.push('Host', h);
  }
  return { head: head + '\r\n', rawList, chunked };
}
