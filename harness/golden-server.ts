/**
 * The loopback HTTP server of the Espruino golden probes, rebuilt from
 * emulator/golden/server.json (the `ROUTES` table below; test/golden.test.ts checks that
 * the two agree).
 *
 * Responses are written by hand on a raw `net` socket: status line, the listed headers in the
 * listed order and case, a blank line, the body; nothing implicit. Unless the behaviour says
 * otherwise, the whole response goes out in ONE socket write and the server then ends the
 * connection. The server answers once it has the request header block plus any body announced
 * by Content-Length. A client that connects and closes without a request is fine (the emulator's
 * synchronous connect check does exactly that).
 */

import { Buffer } from 'node:buffer';
import net from 'node:net';

export type Behaviour =
  | 'normal'
  | 'redirect'
  | `truncate-after:${number}`
  | `stall-after:${number}`
  | 'chunked'
  | 'silent'
  | 'hangup'
  | 'echo';

export interface GoldenRoute {
  path: string;
  status: number | null;
  reason?: string;
  behaviour: Behaviour;
  headers?: Array<[string, string]>;
  body?: string;
  bodyBase64?: string;
  chunks?: string[];
}

const BIG = '0123456789'.repeat(300);
const TRUNCATED = 'abcdefghijklmnopqrstuvwxyz'.repeat(38) + 'abcdefghijkl'; // 1000 bytes
const STALL = 'S'.repeat(2000);
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');

export const ROUTES: GoldenRoute[] = [
  {
    path: '/hello',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '17'],
      ['X-Mixed-Case', 'Yes'],
      ['x-lower', 'lower'],
      ['X-UPPER', 'UP'],
    ],
    body: 'Hello, Espruino!\n',
  },
  {
    path: '/big',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '3000'],
    ],
    body: BIG,
  },
  {
    path: '/binary',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', '256'],
    ],
    bodyBase64: BINARY,
  },
  { path: '/empty', status: 200, reason: 'OK', behaviour: 'normal', headers: [['Content-Length', '0']], body: '' },
  {
    path: '/nolength',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [['Content-Type', 'text/plain']],
    body: 'no content-length here\n',
  },
  {
    path: '/notfound',
    status: 404,
    reason: 'Not Found',
    behaviour: 'normal',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '13'],
    ],
    body: 'no such page\n',
  },
  {
    path: '/moved',
    status: 301,
    reason: 'Moved Permanently',
    behaviour: 'redirect',
    headers: [
      ['Location', '/hello'],
      ['Content-Length', '6'],
    ],
    body: 'moved\n',
  },
  {
    path: '/chunked',
    status: 200,
    reason: 'OK',
    behaviour: 'chunked',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Transfer-Encoding', 'chunked'],
    ],
    chunks: ['Hello ', 'chunked ', 'world!\n'],
  },
  {
    path: '/truncated',
    status: 200,
    reason: 'OK',
    behaviour: 'truncate-after:300',
    headers: [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', '1000'],
    ],
    body: TRUNCATED,
  },
  {
    path: '/stall',
    status: 200,
    reason: 'OK',
    behaviour: 'stall-after:100',
    headers: [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', '2000'],
    ],
    body: STALL,
  },
  { path: '/silent', status: null, behaviour: 'silent' },
  { path: '/hangup', status: null, behaviour: 'hangup' },
  {
    path: '/echo',
    status: 200,
    reason: 'OK',
    behaviour: 'echo',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '<length of generated body>'],
    ],
  },
  {
    path: '/colon-body',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '23'],
    ],
    body: 'alpha: one\r\nbeta: two\r\n',
  },
  {
    path: '/dup-headers',
    status: 200,
    reason: 'OK',
    behaviour: 'normal',
    headers: [
      ['Set-Cookie', 'a=1'],
      ['X-Dup', 'one'],
      ['set-cookie', 'b=2'],
      ['X-Dup', 'two'],
      ['X-Dup', 'three'],
      ['Content-Length', '2'],
    ],
    body: 'ok',
  },
];

const NOT_FOUND: GoldenRoute = {
  path: '',
  status: 404,
  reason: 'Not Found',
  behaviour: 'normal',
  headers: [['Content-Length', '9']],
  body: 'no route\n',
};

/** How long a stalled/silent connection is kept open at most. */
export const SAFETY_NET_MS = 5000;

export interface GoldenServer {
  port: number;
  /** Requests seen, in order: request line and raw header lines. */
  log: Array<{ requestLine: string; headers: Array<[string, string]> }>;
  close(): Promise<void>;
}

function head(status: number, reason: string, headers: Array<[string, string]>): string {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return s + '\r\n';
}

function bodyOf(r: GoldenRoute): Buffer {
  if (r.bodyBase64 !== undefined) return Buffer.from(r.bodyBase64, 'base64');
  return Buffer.from(r.body ?? '', 'latin1');
}

export async function startGoldenServer(opts: { routes?: GoldenRoute[] } = {}): Promise<GoldenServer> {
  const routes = opts.routes ?? ROUTES;
  const sockets = new Set<net.Socket>();
  const log: GoldenServer['log'] = [];

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let answered = false;
    let safety: NodeJS.Timeout | undefined;
    const hold = () => {
      safety = setTimeout(() => sock.destroy(), SAFETY_NET_MS);
      safety.unref();
      sock.on('close', () => clearTimeout(safety));
    };

    sock.on('data', (d) => {
      if (answered) return;
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = buf.subarray(0, end).toString('latin1');
      const lines = headText.split('\r\n');
      const requestLine = lines[0];
      const headers: Array<[string, string]> = [];
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        if (c < 0) continue;
        headers.push([line.slice(0, c), line.slice(c + 1).replace(/^[ \t]+/, '')]);
      }
      const cl = headers.find(([k]) => k.toLowerCase() === 'content-length');
      const want = cl ? parseInt(cl[1], 10) || 0 : 0;
      if (buf.length - (end + 4) < want) return;
      answered = true;
      log.push({ requestLine, headers });

      const path = requestLine.split(' ')[1] ?? '';
      const route = routes.find((r) => r.path === path) ?? NOT_FOUND;
      const b = route.behaviour;
      if (b === 'silent') {
        hold();
        return;
      }
      if (b === 'hangup') {
        sock.end();
        return;
      }
      const hs = route.headers ?? [];
      if (b === 'echo') {
        let body = requestLine + '\n';
        for (const [k, v] of headers) body += `${k}=${v}\n`;
        const bodyBuf = Buffer.from(body, 'latin1');
        const h = hs.map(([k, v]) => [k, k === 'Content-Length' ? String(bodyBuf.length) : v] as [string, string]);
        sock.end(Buffer.concat([Buffer.from(head(route.status!, route.reason!, h), 'latin1'), bodyBuf]));
        return;
      }
      if (b === 'chunked') {
        let body = '';
        for (const c of route.chunks ?? []) body += `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`;
        body += '0\r\n\r\n';
        sock.end(Buffer.from(head(route.status!, route.reason!, hs) + body, 'latin1'));
        return;
      }
      const full = bodyOf(route);
      const h = Buffer.from(head(route.status!, route.reason!, hs), 'latin1');
      const m = /^(truncate|stall)-after:(\d+)$/.exec(b);
      if (m) {
        const part = full.subarray(0, parseInt(m[2], 10));
        if (m[1] === 'truncate') {
          sock.end(Buffer.concat([h, part]));
        } else {
          sock.write(Buffer.concat([h, part]));
          hold();
        }
        return;
      }
      // normal, redirect
      sock.end(Buffer.concat([h, full]));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    log,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
