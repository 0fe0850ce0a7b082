/**
 * The loopback HTTP server of the Espruino golden probes, rebuilt from
 * emulator/golden/server.json (the `ROUTES` table below; test/golden.test.ts checks that the
 * two agree).
 *
 * It is the harness's one fault server (harness/fault-server.ts) with these fixed routes:
 * each route's `behaviour` is a fault mode of its vocabulary, which is the vocabulary of
 * server.json. The probes' recorded outputs depend on these responses byte for byte.
 */

import { Buffer } from 'node:buffer';
import { startFaultServer, type Fault, type FaultResponse } from './fault-server.ts';

/** A fault mode (harness/fault-server.ts), as server.json spells a route's behaviour. */
export type Behaviour = Fault;

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

function bodyOf(r: GoldenRoute): Buffer {
  if (r.bodyBase64 !== undefined) return Buffer.from(r.bodyBase64, 'base64');
  return Buffer.from(r.body ?? '', 'latin1');
}

function response(r: GoldenRoute): FaultResponse {
  // status and reason are null only for 'silent' and 'hangup', which send no status line
  return { status: r.status ?? 0, reason: r.reason ?? '', headers: r.headers ?? [], body: bodyOf(r), fault: r.behaviour, chunks: r.chunks };
}

export async function startGoldenServer(opts: { routes?: GoldenRoute[] } = {}): Promise<GoldenServer> {
  const routes = opts.routes ?? ROUTES;
  const srv = await startFaultServer({
    respond: (req) => response(routes.find((r) => r.path === req.path) ?? NOT_FOUND),
    holdMs: SAFETY_NET_MS,
    unref: true,
  });
  return { port: srv.port, log: srv.log, close: () => srv.close() };
}
