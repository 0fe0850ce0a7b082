// Focused tests of the emulated Espruino `require("http")` (emulator/http.ts), with a
// minimal host (no Board), against the golden loopback server, ad-hoc raw servers, an HTTPS
// server with a throw-away self-signed certificate, and nock.
import { selfSignedCert } from '../tools/lib/tls.ts';
import { expect } from 'chai';
import nock from 'nock';
import net from 'node:net';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHttp, type HttpHost } from '../emulator/http.ts';
import { espruinoParseHeaders } from '../emulator/http-wire.ts';
import { urlParse } from '../emulator/url.ts';
import { startGoldenServer, type GoldenServer } from '../harness/golden-server.ts';

interface TestHost extends HttpHost {
  lines: string[];
  holds: number;
  idle(): Promise<void>;
}

function makeHost(over: Partial<HttpHost> = {}): TestHost {
  const lines: string[] = [];
  let holds = 0;
  let waiters: Array<() => void> = [];
  const h: TestHost = {
    chunkSize: 536,
    defer: (f) => setImmediate(f),
    hold() {
      holds++;
      h.holds = holds;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        h.holds = holds;
        if (holds === 0) {
          const w = waiters;
          waiters = [];
          setImmediate(() => w.forEach((f) => f()));
        }
      };
    },
    print: (l) => lines.push(l),
    makeEmitter(o: any) {
      const L: Record<string, Function[]> = {};
      Object.defineProperties(o, {
        on: { value: (e: string, f: Function) => void (L[e] ??= []).push(f) },
        emit: { value: (e: string, ...a: unknown[]) => (L[e] ?? []).slice().forEach((f) => f(...a)) },
        listenerCount: { value: (e: string) => (L[e] ?? []).length },
      });
      return o;
    },
    stats: { requests: 0, bytesOut: 0, bytesIn: 0 },
    connectCheck: true,
    newObject: () => ({}),
    newError: (m) => new Error(m),
    version: '2v29.277',
    lines,
    holds: 0,
    idle: () => new Promise<void>((r) => (holds === 0 ? setImmediate(r) : waiters.push(r))),
    ...over,
  } as TestHost;
  return h;
}

/**
 * nock 14 intercepts every http request from the moment it is imported (any test file importing
 * it turns it on for the whole mocha run). Its interceptor re-parses the request bytes and
 * cannot pass through Espruino's literal "undefined" method, so the loopback suites switch it
 * off while they run.
 */
export function withoutNock(): void {
  let was = false;
  before(() => {
    was = nock.isActive();
    if (was) nock.restore();
  });
  after(() => {
    if (was && !nock.isActive()) nock.activate();
  });
}

/** A raw server: `handler(socket, requestText)` once the request head has arrived. */
async function rawServer(handler: (s: net.Socket, req: string) => void): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
    let buf = '';
    let done = false;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (!done && buf.includes('\r\n\r\n')) {
        done = true;
        handler(s, buf);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      socks.forEach((s) => s.destroy());
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

describe('emulator http: url.parse and header parsing', () => {
  it('parses URLs like Espruino (port null when absent, path "/" default)', () => {
    expect(urlParse('http://example.com')).to.deep.equal({
      protocol: 'http:',
      method: 'GET',
      host: 'example.com',
      path: '/',
      pathname: '/',
      search: null,
      port: null,
      query: null,
    });
    const u = urlParse('https://h.example:8443/a/b?x=1&y=2');
    expect(u.protocol).to.equal('https:');
    expect(u.host).to.equal('h.example');
    expect(u.port).to.equal(8443);
    expect(u.path).to.equal('/a/b?x=1&y=2');
    expect(u.pathname).to.equal('/a/b');
    expect(u.search).to.equal('?x=1&y=2');
    expect(u.query).to.equal('x=1&y=2');
    expect(urlParse('/a?b=c&d=%41', true).query).to.deep.equal({ b: 'c', d: 'A' });
  });

  it('parses header lines in the body of the first read (firmware bug)', () => {
    const p = espruinoParseHeaders('HTTP/1.1 200 OK\r\nA: 1\r\n\r\nx: y\r\nno colon\r\n')!;
    expect(p.head.statusCode).to.equal('200');
    expect(p.head.statusMessage).to.equal('OK');
    expect(p.head.httpVersion).to.equal('1.1');
    expect(p.head.headers).to.deep.equal([
      ['A', '1'],
      ['x', 'y'],
    ]);
    expect(espruinoParseHeaders('HTTP/1.1 200 OK\r\nA: 1\r\n')).to.equal(undefined);
  });
});

describe('emulator http: loopback server', function () {
  withoutNock();
  let srv: GoldenServer;
  before(async () => {
    srv = await startGoldenServer();
  });
  after(() => srv.close());

  it('delivers a response with a String statusCode, header case kept, events in order', async () => {
    const host = makeHost();
    const http = createHttp(host);
    const ev: string[] = [];
    let res: any;
    const req = http.get(`http://127.0.0.1:${srv.port}/hello`, (r: any) => {
      res = r;
      ev.push('response');
      r.on('data', (d: string) => ev.push('data:' + d));
      r.on('end', () => ev.push('end'));
      r.on('close', (e: boolean) => ev.push('close:' + e));
    });
    req.on('error', () => ev.push('error'));
    await host.idle();
    expect(res.statusCode).to.equal('200');
    expect(res.statusMessage).to.equal('OK');
    expect(res.httpVersion).to.equal('1.1');
    expect(Object.keys(res.headers)).to.deep.equal(['Content-Type', 'Content-Length', 'X-Mixed-Case', 'x-lower', 'X-UPPER']);
    expect(ev).to.deep.equal(['response', 'data:Hello, Espruino!\n', 'end', 'close:false']);
    expect(host.stats.requests).to.equal(1);
    expect(host.stats.bytesIn).to.equal(84 + 17 + 29); // status line + headers + blank + body
    expect(host.stats.bytesOut).to.be.greaterThan(60);
  });

  it('splits the body into reads of chunkSize, the first one shortened by the header block', async () => {
    for (const [chunkSize, expected] of [
      [536, [469, 536, 536, 536, 536, 387]],
      [268, [201, 268, 268, 268, 268, 268, 268, 268, 268, 268, 268, 119]],
    ] as const) {
      const host = makeHost({ chunkSize });
      const sizes: number[] = [];
      createHttp(host).get(`http://127.0.0.1:${srv.port}/big`, (r: any) => r.on('data', (d: string) => sizes.push(d.length)));
      await host.idle();
      expect(sizes).to.deep.equal(expected);
    }
  });

  it('gives binary bodies as Latin-1 strings', async () => {
    const host = makeHost();
    let body = '';
    createHttp(host).get(`http://127.0.0.1:${srv.port}/binary`, (r: any) => r.on('data', (d: string) => (body += d)));
    await host.idle();
    expect(body.length).to.equal(256);
    for (let i = 0; i < 256; i++) expect(body.charCodeAt(i)).to.equal(i);
  });

  it('ends a truncated body silently: end + close(false), no error', async () => {
    const host = makeHost();
    const ev: string[] = [];
    let total = 0;
    const req = createHttp(host).get(`http://127.0.0.1:${srv.port}/truncated`, (r: any) => {
      r.on('data', (d: string) => (total += d.length));
      r.on('end', () => ev.push('end'));
      r.on('close', (e: boolean) => ev.push('close:' + e));
    });
    req.on('error', (e: any) => ev.push('error:' + e.code));
    await host.idle();
    expect(total).to.equal(300);
    expect(ev).to.deep.equal(['end', 'close:false']);
  });

  it('throws synchronously on a refused port, after the console ERROR line', () => {
    const host = makeHost();
    let err: any;
    try {
      createHttp(host).get('http://127.0.0.1:1/', () => {});
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.equal('InternalError: Unable to create socket');
    expect(host.lines).to.deep.equal(['ERROR: Connect failed (err 111)']);
    expect(host.holds).to.equal(0);
  });

  it('throws synchronously on an unknown host', () => {
    const host = makeHost();
    expect(() => createHttp(host).get('http://nonexistent.invalid/', () => {})).to.throw('Unable to locate host');
    expect(host.lines).to.deep.equal([]);
  });

  it('connects only on end(), sends the method verbatim and the headers in Espruino order', async () => {
    const host = makeHost();
    const http = createHttp(host);
    const opts: any = { host: '127.0.0.1', port: srv.port, path: '/echo', headers: { 'X-A': 'a', Authorization: 'Basic eA==' } };
    let body = '';
    const req = http.request(opts, (r: any) => r.on('data', (d: string) => (body += d)));
    await new Promise((r) => setTimeout(r, 50));
    expect(host.stats.requests).to.equal(0);
    req.end();
    await host.idle();
    expect(body.split('\n')).to.deep.equal([
      'undefined /echo HTTP/1.1',
      'User-Agent=Espruino 2v29.277',
      'Connection=close',
      'X-A=a',
      'Authorization=Basic eA==',
      `Host=127.0.0.1:${srv.port}`,
      '',
    ]);
    expect(opts.method).to.equal(undefined);
    http.get(opts, () => {});
    expect(opts.method).to.equal('GET');
    await host.idle();
  });

  it('sends a POST body as written, no Content-Length added', async () => {
    let seen = '';
    const s = await rawServer((sock, req) => {
      sock.once('data', () => {}); // body may come later
      setTimeout(() => {
        seen = req;
        sock.end('HTTP/1.1 204 No Content\r\n\r\n');
      }, 50);
      sock.on('data', (d) => (seen += d.toString('latin1')));
    });
    try {
      const host = makeHost();
      let status = '';
      const req = createHttp(host).request(
        { host: '127.0.0.1', port: s.port, path: '/p', method: 'POST', headers: { 'Content-Length': 5 } },
        (r: any) => (status = r.statusCode),
      );
      req.write('he');
      req.end('llo');
      await host.idle();
      expect(status).to.equal('204');
      expect(seen).to.match(/^POST \/p HTTP\/1\.1\r\n/);
      expect(seen).to.not.match(/Transfer-Encoding/i);
      expect(seen.endsWith('\r\n\r\nhello')).to.equal(true);
    } finally {
      await s.close();
    }
  });

  it('delivers bytes beyond Content-Length that arrive with the body (the device must check sizes)', async () => {
    const s = await rawServer((sock) => {
      sock.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(1000) + 'EXTRA'.repeat(100));
    });
    try {
      const host = makeHost();
      let total = 0;
      const ev: string[] = [];
      createHttp(host).get(`http://127.0.0.1:${s.port}/`, (r: any) => {
        r.on('data', (d: string) => (total += d.length));
        r.on('close', (e: boolean) => ev.push('close:' + e));
      });
      await host.idle();
      expect(total).to.be.greaterThan(1000);
      expect(ev).to.deep.equal(['close:false']);
    } finally {
      await s.close();
    }
  });

  it('de-chunks chunks split across reads', async () => {
    const body = 'y'.repeat(1500);
    const s = await rawServer((sock) => {
      sock.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(1500).toString(16)}\r\n${body}\r\n3\r\nabc\r\n0\r\n\r\n`);
    });
    try {
      const host = makeHost();
      let got = '';
      const ev: string[] = [];
      createHttp(host).get(`http://127.0.0.1:${s.port}/`, (r: any) => {
        r.on('data', (d: string) => (got += d));
        r.on('end', () => ev.push('end'));
        r.on('close', (e: boolean) => ev.push('close:' + e));
      });
      await host.idle();
      expect(got).to.equal(body + 'abc');
      expect(ev).to.deep.equal(['end', 'close:false']);
    } finally {
      await s.close();
    }
  });

  it('closes before any header: req error -15 "no response", callback never runs', async () => {
    const host = makeHost();
    const ev: string[] = [];
    const req = createHttp(host).get(`http://127.0.0.1:${srv.port}/hangup`, () => ev.push('response'));
    req.on('error', (e: any) => ev.push(JSON.stringify(e)));
    await host.idle();
    expect(ev).to.deep.equal(['{"code":-15,"message":"no response"}']);
  });

  it('req.clsNow = true aborts a stalled download at the next turn (end, close(false))', async () => {
    const host = makeHost();
    const ev: string[] = [];
    const req: any = createHttp(host).get(`http://127.0.0.1:${srv.port}/stall`, (r: any) => {
      r.on('data', (d: string) => {
        ev.push('data:' + d.length);
        req.clsNow = true;
      });
      r.on('end', () => ev.push('end'));
      r.on('close', (e: boolean) => ev.push('close:' + e));
    });
    req.on('error', () => ev.push('error'));
    await host.idle();
    expect(ev).to.deep.equal(['data:100', 'end', 'close:false']);
  });

  it('req.clsNow = true with no response yet: no events at all, and no timeout otherwise', async () => {
    const host = makeHost();
    const ev: string[] = [];
    const req: any = createHttp(host).get(`http://127.0.0.1:${srv.port}/silent`, () => ev.push('response'));
    req.on('error', () => ev.push('error'));
    await new Promise((r) => setTimeout(r, 300));
    expect(host.holds).to.equal(1);
    req.clsNow = true;
    await host.idle();
    expect(ev).to.deep.equal([]);
  });

  it('de-chunks chunked bodies and reads bodies without Content-Length until close', async () => {
    const host = makeHost();
    const http = createHttp(host);
    const bodies: Record<string, string> = {};
    for (const p of ['/chunked', '/nolength', '/empty']) {
      bodies[p] = '';
      http.get(`http://127.0.0.1:${srv.port}${p}`, (r: any) => r.on('data', (d: string) => (bodies[p] += d)));
    }
    await host.idle();
    expect(bodies).to.deep.equal({ '/chunked': 'Hello chunked world!\n', '/nolength': 'no content-length here\n', '/empty': '' });
  });

  it('keeps data that arrives before a data listener and flushes it when one is added', async () => {
    const host = makeHost();
    let res: any;
    createHttp(host).get(`http://127.0.0.1:${srv.port}/hello`, (r: any) => (res = r));
    await host.idle();
    expect(res.available()).to.equal(17);
    expect(res.read()).to.equal('Hello, Espruino!\n');
  });

  it('reports an exception in a callback through host.uncaught and carries on', async () => {
    const errors: unknown[] = [];
    const host = makeHost({ uncaught: (e) => errors.push(e) });
    const ev: string[] = [];
    createHttp(host).get(`http://127.0.0.1:${srv.port}/hello`, (r: any) => {
      r.on('data', () => {
        throw new Error('boom');
      });
      r.on('close', () => ev.push('close'));
    });
    await host.idle();
    expect(errors.map(String)).to.deep.equal(['Error: boom']);
    expect(ev).to.deep.equal(['close']);
  });
});

describe('emulator http: https', function () {
  withoutNock();
  let dir: string;
  let server: https.Server;
  let port: number;
  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'espruino-https-'));
    const tls = await selfSignedCert(['localhost', '127.0.0.1'], dir);
    server = https.createServer(
      { key: tls.key, cert: tls.cert },
      (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '6' });
        res.end('secure');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    server?.closeAllConnections?.();
    server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ignores the self-signed certificate and ends with the benign -30848 error after end, before close', async () => {
    const host = makeHost();
    const ev: string[] = [];
    const req = createHttp(host).get(`https://127.0.0.1:${port}/`, (r: any) => {
      ev.push('status:' + r.statusCode);
      r.on('data', (d: string) => ev.push('data:' + d));
      r.on('end', () => ev.push('end'));
      r.on('close', (e: boolean) => ev.push('close:' + e));
    });
    req.on('error', (e: any) => ev.push('error:' + e.code + ':' + e.message));
    await host.idle();
    expect(ev).to.deep.equal(['status:200', 'data:secure', 'end', 'error:-30848:unknown error', 'close:true']);
  });
});

describe('emulator http: nock', function () {
  before(() => {
    if (!nock.isActive()) nock.activate();
  });
  afterEach(() => nock.cleanAll());

  it('works with nock interceptors (connectCheck off)', async () => {
    const scope = nock('http://ota.example')
      .get('/v/manifest.json')
      .reply(200, '{"v":1}', { 'Content-Type': 'application/json', 'X-Thing': 'A' });
    const host = makeHost({ connectCheck: false });
    let res: any;
    let body = '';
    const ev: string[] = [];
    const req = createHttp(host).get('http://ota.example/v/manifest.json', (r: any) => {
      res = r;
      r.on('data', (d: string) => (body += d));
      r.on('close', (e: boolean) => ev.push('close:' + e));
    });
    req.on('error', (e: any) => ev.push('error:' + JSON.stringify(e)));
    await host.idle();
    expect(scope.isDone()).to.equal(true);
    expect(res.statusCode).to.equal('200');
    expect(body).to.equal('{"v":1}');
    expect(ev).to.deep.equal(['close:false']);
    expect(res.headers['Content-Type'] ?? res.headers['content-type']).to.equal('application/json');
  });

  it('sees the Espruino request headers in nock', async () => {
    let seen: Record<string, unknown> = {};
    nock('http://ota.example')
      .get('/x')
      .reply(function () {
        seen = this.req.headers;
        return [200, 'ok'];
      });
    const host = makeHost({ connectCheck: false });
    createHttp(host).get({ host: 'ota.example', path: '/x', headers: { Authorization: 'Basic dTpw' } }, () => {});
    await host.idle();
    expect(seen['user-agent']).to.equal('Espruino 2v29.277');
    expect(seen['authorization']).to.equal('Basic dTpw');
    expect(seen['host']).to.equal('ota.example');
  });

  it('maps a nock replyWithError before headers to req error -15', async () => {
    nock('http://ota.example').get('/e').replyWithError('boom');
    const host = makeHost({ connectCheck: false });
    const ev: string[] = [];
    const req = createHttp(host).get('http://ota.example/e', () => ev.push('response'));
    req.on('error', (e: any) => ev.push('error:' + e.code));
    await host.idle();
    expect(ev).to.deep.equal(['error:-15']);
  });
});
