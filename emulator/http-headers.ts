/**
 * Response header parsing as the firmware does it (`httpParseHeaders` in
 * `libs/network/http/jswrap_http.c`), including the bug that also parses body lines of the
 * same read (golden probe 30).
 */

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
