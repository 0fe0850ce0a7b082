/**
 * Espruino's `url.parse` (`jswrap_url_parse`), character scan for character scan, as a plain
 * description; the http client uses it for string URLs and `url.parse` copies it into the realm.
 */

import type { Realm } from './realm.ts';

export interface ParsedUrl {
  protocol?: string;
  method: string;
  host: string;
  path: string;
  pathname: string;
  search: string | null;
  port: number | null;
  query: string | Record<string, string> | null;
}

/** Espruino's `url.parse(str, parseQuery)`, character scan for character scan. */
export function urlParse(url: string, parseQuery = false): ParsedUrl {
  let slashes = 0;
  let colons = 0;
  let addrStart = -1;
  let portStart = -1;
  let pathStart = -1;
  let searchStart = -1;
  let portNumber = 0;
  let i = 0;
  for (; i < url.length; i++) {
    const ch = url[i];
    if (ch === '/') {
      slashes++;
      if (pathStart < 0) pathStart = i;
      if (colons === 1 && slashes === 2 && addrStart < 0) {
        addrStart = i;
        pathStart = -1;
        searchStart = -1;
      }
    }
    if (ch === ':') {
      colons++;
      if (addrStart >= 0 && pathStart < 0) portStart = i;
    }
    if (portStart >= 0 && i > portStart && pathStart < 0 && ch >= '0' && ch <= '9') {
      portNumber = portNumber * 10 + (ch.charCodeAt(0) - 48);
    }
    if (ch === '?' && pathStart >= 0) searchStart = i;
  }
  if (pathStart < 0) pathStart = i;
  const addrEnd = portStart >= 0 ? portStart : pathStart;
  const out: ParsedUrl = {} as ParsedUrl;
  if (addrStart > 0) out.protocol = url.slice(0, addrStart - 1);
  out.method = 'GET';
  out.host = url.slice(addrStart + 1, Math.max(addrStart + 1, addrEnd));
  out.path = url.slice(pathStart) || '/';
  out.pathname = (searchStart >= 0 ? url.slice(pathStart, searchStart) : url.slice(pathStart)) || '/';
  out.search = searchStart >= 0 ? url.slice(searchStart) : null;
  out.port = portNumber <= 0 || portNumber > 65535 ? null : portNumber;
  let query: ParsedUrl['query'] = searchStart >= 0 ? url.slice(searchStart + 1) : null;
  if (parseQuery && query !== null) {
    const q: Record<string, string> = {};
    let key = '';
    let val = '';
    let hadEquals = false;
    const add = () => {
      if (key.length || val.length) q[key] = val;
      key = '';
      val = '';
      hadEquals = false;
    };
    for (let j = 0; j < query.length; j++) {
      let ch = query[j];
      if (ch === '&') add();
      else if (!hadEquals && ch === '=') hadEquals = true;
      else {
        if (ch === '%') {
          ch = String.fromCharCode(parseInt(query.slice(j + 1, j + 3), 16) & 255);
          j += 2;
        }
        if (hadEquals) val += ch;
        else key += ch;
      }
    }
    add();
    query = q;
  }
  out.query = query;
  return out;
}

/** The global `url` object. */
export function installUrl(realm: Realm): void {
  realm.define('url', realm.obj({ parse: realm.fn((u: unknown, q?: unknown) => realm.toCtx(urlParse(String(u), !!q))) }));
}
