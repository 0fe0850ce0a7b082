/**
 * Espruino's `require("http")` client, emulated on top of Node's http/https.
 *
 * Everything device code can observe follows the firmware (`libs/network/socketserver.c`,
 * `jswrap_http.c`, `jswrap_net.c`) and the golden probes 16–30 recorded on the Linux build:
 *
 * - `http.get(url|options, cb)`, `http.request(options, cb)`; a request connects only on its first
 *   `write()`/`end()`. A string URL goes through Espruino's `url.parse` (url.ts). `http.get`
 *   writes `method:"GET"` into a caller's options object.
 * - The request is written exactly as Espruino writes it (http-wire.ts `requestHead`).
 *   No Content-Length is added; `Transfer-Encoding: chunked` in the headers chunk-encodes writes.
 * - Refused connections / unknown hosts THROW synchronously from `end()` (so from `http.get`)
 *   an InternalError (not instanceof Error, golden probe 62): a worker thread does the DNS lookup
 *   + TCP connect while the main thread blocks on `Atomics.wait`, like the blocking `connect()`
 *   of the ESP32/Linux builds (`host.connectCheck`). Only loopback is reachable (network.ts).
 * - Node's http/https only writes the request and provides the socket (so nock and real servers
 *   both work); the response is read from the raw socket bytes by a port of the firmware's client
 *   loop (`socketClientConnectionsIdle`, `socketReceived`, `socketPushReceiveData`,
 *   `httpParseHeaders`), one pass per turn (`host.defer`), one "recv" of at most
 *   `host.chunkSize` bytes per pass. The first read contains the header block, so the first
 *   'data' carries `chunkSize - headerBytes` (probe 17). Chunked bodies are de-chunked by the
 *   firmware's algorithm; `cRcv` counts down Content-Length; bytes beyond it that arrive before
 *   the close are delivered too (the device has to check sizes itself).
 * - The response: `statusCode` is a String, header names keep the server's case, and the header
 *   parser also runs over the body bytes of the same read (the colon-in-body bug, probe 30).
 *   A response without Content-Length ends at the pass after its headers (cRcv is 0).
 * - Data that arrives before a 'data' listener exists is buffered on `res` (see `res.read()`)
 *   and handed over when a listener is added, also after 'close' (events.ts, probe 63).
 * - Events are raised synchronously within a pass (`host.fire`), where device `emit()` queues.
 * - Closing: 'end' fires once Content-Length is reached (or at the close); a short body just
 *   ends ('end', 'close'(false)); a close before any header gives req 'error'
 *   {code:-15,message:"no response"}; `req.clsNow = true` closes at the next pass with no error;
 *   there is no timeout at all. Repeated response headers: `res.headers` keeps the first value
 *   (the firmware keeps both properties, which V8 cannot; probes 64, 65). HTTPS ends with the benign mbedTLS error -30848 after 'end' and
 *   before 'close' (which then gets hadError=true, as in the firmware's `fireErrorEvent`).
 *
 * Why this module is over 500 lines: `request()` is one connection of the firmware's client
 * loop, and its steps share the connection's state, so they stay one closure. The wire format
 * (request head, header parser) is in http-wire.ts, the network under it in network.ts.
 */

import { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { asString, espruinoParseHeaders, headerI, requestHead, toLatin1Bytes } from './http-wire.ts';
import {
  connectCheckSync, EHOSTUNREACH, isLoopbackAddress, loopbackLookup, loopbackOnlyMessage, notLoopbackError, socketErrorString,
  SOCKET_ERR,
} from './network.ts';
import { urlParse } from './url.ts';

export interface HttpHost {
  /** Bytes per socket read per idle pass: 536 on ESP32/Linux, 268 on ESP8266. */
  chunkSize: number;
  /** Run `fn` on a later turn of the board's event loop (one Espruino idle pass). */
  defer(fn: () => void): void;
  /** Keep the board alive (an open socket); returns the release function. */
  hold(): () => void;
  /** Print one console line. */
  print(line: string): void;
  /** Give an object Espruino's `on`/`emit`/`removeAllListeners`. */
  makeEmitter<T extends object>(o: T): T;
  stats: { requests: number; bytesOut: number; bytesIn: number };
  /** Do the synchronous DNS + connect check (off for nock tests, where host names are fake). */
  connectCheck: boolean;
  /** A plain object of the device's realm. */
  newObject(): any;
  /** An Error of the device's realm. */
  newError(msg: string): any;
  /** `process.env.VERSION`, used in the User-Agent. */
  version: string;
  /** Optional: number of listeners for `event` on an emitter made by `makeEmitter`. */
  listenerCount?(o: object, event: string): number;
  /**
   * Optional: raise `event` on `o` now (the firmware's native events); default `o.emit(...)`.
   * A board's `emit` is queued, as Espruino's, so it provides this.
   */
  fire?(o: object, event: string, args: unknown[]): void;
  /** Optional: `res` buffers data no 'data' listener took; a listener added later gets it (`take`). */
  streamBuffer?(res: object, take: () => string | null): void;
  /** Optional: report an exception thrown by a device callback ("Uncaught ..."). */
  uncaught?(e: unknown): void;
  /** Optional: an error of a named device error class (e.g. "InternalError"). */
  newNamedError?(name: string, msg: string): any;
  /** Optional: bounded wait for the synchronous connect check, ms (default 2000). */
  connectTimeoutMs?: number;
  /** Bench instrumentation (default none): sees every body chunk handed to device 'data' listeners. */
  onData?(chunk: string): void;
  /** Optional: register teardown for when the device context dies (reboot, load, power cut). */
  onDispose?(fn: () => void): void;
  /**
   * Optional: whether the firmware has TLS (default true). Without it (ESP8266) an `https:` URL
   * still defaults to port 443 but the connection is plain TCP, as in the firmware.
   */
  tls?: boolean;
}

// ---------------------------------------------------------------------------------------------

function isObjectLike(v: unknown): v is Record<string, any> {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

/** The Espruino http module object. */
export interface EspruinoHttp {
  get(options: unknown, cb?: (res: any) => void): any;
  request(options: unknown, cb?: (res: any) => void): any;
}

export function createHttp(host: HttpHost): EspruinoHttp {
  const listenerCount = (o: any, ev: string): number => {
    if (host.listenerCount) return host.listenerCount(o, ev);
    if (typeof o.listenerCount === 'function') return o.listenerCount(ev);
    if (typeof o.listeners === 'function') return (o.listeners(ev) ?? []).length;
    const v = o['#on' + ev];
    return v ? (Array.isArray(v) ? v.length : 1) : 0;
  };

  const report = (e: unknown) => {
    if (host.uncaught) host.uncaught(e);
    else host.print('Uncaught ' + String(e));
  };

  /** Call a device callback; an exception is reported and does not stop the caller. */
  const call = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      report(e);
    }
  };

  const emit = (o: any, ev: string, ...args: unknown[]) =>
    call(() => (host.fire ? host.fire(o, ev, args) : o.emit(ev, ...args)));

  const internalError = (msg: string) => {
    if (host.newNamedError) return host.newNamedError('InternalError', msg);
    const e = host.newError(msg);
    try {
      Object.defineProperty(e, 'name', { value: 'InternalError', writable: true, configurable: true, enumerable: false });
    } catch {
      /* ignore */
    }
    return e;
  };

  const errObj = (code: number) => {
    const o = host.newObject();
    o.code = code;
    o.message = socketErrorString(code);
    return o;
  };

  function request(options: unknown, cb?: (res: any) => void): any {
    let opts: any = options;
    if (typeof opts === 'string') {
      const p = urlParse(opts);
      opts = host.newObject();
      Object.assign(opts, p);
    }
    if (!isObjectLike(opts)) {
      throw host.newError('Expecting Options to be an Object but it was ' + typeof opts);
    }
    const isHttps = opts.protocol === 'https:'; // sets the default port either way
    const isTls = isHttps && host.tls !== false;
    const req = host.makeEmitter(host.newObject());
    const res = host.makeEmitter(host.newObject());

    // --- connection state (the firmware's hidden properties) ---
    let connected = false; // socket created (Node request made)
    let done = false; // socket closed, events queued
    let ended = false; // req.end() called ("cls")
    let sendChunked = false; // request body is chunk-encoded
    let nodeReq: http.ClientRequest | undefined;
    let release: (() => void) | undefined;
    let scheduled = false;
    // the virtual socket: raw response bytes (decrypted for TLS) as they came off the wire
    const rx: Buffer[] = [];
    let rxBytes = 0;
    let eof = false;
    let eofError: NodeJS.ErrnoException | undefined;
    let hadHeaders = false; // "hdrs"
    let chunked = false; // response is chunked ("chunked" on res)
    let cRcv = 0; // bytes still expected ("cRcv"), or 1/0 for chunked
    let resEnded = false; // 'end' queued ("endd")
    let receiveData = ''; // "dRcv": received and not pushed yet
    let resBuffer: string | null = null; // data pushed while 'res' had no 'data' listener
    let queue: Array<() => void> = [];

    // `req.clsNow = true` must wake a connection that is waiting for the network.
    let clsNowValue: unknown = undefined;
    Object.defineProperty(req, 'clsNow', {
      configurable: true,
      enumerable: false,
      get: () => clsNowValue,
      set: (v: unknown) => {
        clsNowValue = v;
        Object.defineProperty(req, 'clsNow', { value: v, writable: true, enumerable: true, configurable: true });
        wake();
      },
    });

    function wake() {
      if (scheduled || done || !connected) return;
      scheduled = true;
      host.defer(step);
    }

    const hasDataListener = () => listenerCount(res, 'data') > 0;
    // A 'data' listener added at any time later (even after 'close') gets what was buffered.
    host.streamBuffer?.(res, () => {
      const d = resBuffer;
      resBuffer = null;
      if (d !== null) host.onData?.(d);
      return d;
    });

    /** jswrap_stream_pushData: call the listener now, or buffer (up to 512 bytes unless forced). */
    function pushData(data: string, force: boolean): boolean {
      if (hasDataListener()) {
        host.onData?.(data);
        emit(res, 'data', data);
        return true;
      }
      if (resBuffer === null) resBuffer = data;
      else if (force || resBuffer.length < 512) resBuffer += data;
      else return false;
      return true;
    }

    /** Adding a 'data' listener hands over what was buffered (the firmware queues it as an event). */
    function flushBuffer() {
      if (resBuffer !== null && hasDataListener()) {
        const d = resBuffer;
        resBuffer = null;
        host.onData?.(d);
        emit(res, 'data', d);
      }
    }

    /** socketPushReceiveData: count or de-chunk, then push. */
    function pushReceive(force: boolean) {
      if (!receiveData) return;
      let next: string | null = null;
      let partial: string | null = null;
      if (chunked) {
        const len = receiveData.length;
        if (len < 5) return; // at least "0\r\n\r\n"
        let startIdx = receiveData.indexOf('\r\n');
        const chunkLen = parseInt(receiveData, 16) || 0;
        cRcv = chunkLen ? 1 : 0;
        if (!chunkLen) {
          receiveData = '';
          return;
        }
        startIdx += 2;
        const nextIdx = startIdx + chunkLen + 2;
        if (nextIdx < len) next = receiveData.slice(nextIdx);
        else if (nextIdx > len) {
          if (nextIdx - len < 3) return; // only the CRLF is missing: wait
          partial = (nextIdx - len - 2).toString(16) + '\r\n';
        }
        receiveData = receiveData.substr(startIdx, chunkLen);
      } else {
        cRcv -= receiveData.length;
      }
      if (!pushData(receiveData, force)) return;
      receiveData = next ?? partial ?? '';
      if (next !== null) pushReceive(force);
    }

    /** One netRecv of at most chunkSize bytes: the bytes, null at EOF, '' if nothing yet. */
    function recv(): string | null {
      if (rxBytes === 0) return eof ? null : '';
      let want = Math.min(host.chunkSize, rxBytes);
      const parts: Buffer[] = [];
      while (want > 0) {
        const b = rx[0];
        if (b.length <= want) {
          parts.push(b);
          rx.shift();
          want -= b.length;
          rxBytes -= b.length;
        } else {
          parts.push(b.subarray(0, want));
          rx[0] = b.subarray(want);
          rxBytes -= want;
          want = 0;
        }
      }
      const buf = Buffer.concat(parts);
      host.stats.bytesIn += buf.length;
      return buf.toString('latin1');
    }

    /** socketReceived: parse the header block once it is complete, then push. */
    function received() {
      if (!hadHeaders) {
        const parsed = espruinoParseHeaders(receiveData);
        if (!parsed) return;
        const { head } = parsed;
        const headers = host.newObject();
        for (const [k, v] of head.headers) {
          if (!Object.prototype.hasOwnProperty.call(headers, k)) {
            Object.defineProperty(headers, k, { value: v, writable: true, enumerable: true, configurable: true });
          }
        }
        res.headers = headers;
        const te = headerI(head.headers, 'Transfer-Encoding');
        if (te !== undefined && te.toLowerCase() === 'chunked') {
          chunked = true;
          cRcv = 1;
        } else {
          cRcv = parseInt(headerI(head.headers, 'Content-Length') ?? '', 10) || 0;
        }
        res.httpVersion = head.httpVersion;
        res.statusCode = head.statusCode;
        res.statusMessage = head.statusMessage;
        receiveData = receiveData.slice(parsed.headerEnd);
        hadHeaders = true;
        if (cb) {
          const f = cb;
          queue.push(() => call(() => f.call(req, res)));
        }
      }
      pushReceive(false);
    }

    /** One pass of socketClientConnectionsIdle for this connection. */
    function step() {
      scheduled = false;
      if (done) return;
      queue = [];
      let progressed = false;
      let closeNow = !!(req as any).clsNow;
      let error = 0;
      flushBuffer();
      // "We do this up here because we want to wait until we have been once around the idle loop"
      if (hadHeaders) pushReceive(false);
      if (!closeNow) {
        if (ended) closeNow = true;
        if (cRcv > 0 || !hadHeaders) closeNow = false;
        else if (!resEnded) {
          resEnded = true;
          queue.push(() => emit(res, 'end'));
        }
        // With TLS the firmware sees the peer's close_notify right after the body; wait for it
        // (Node closes the socket itself once the response is complete) so that it is reported.
        if (isTls && closeNow && !eof) closeNow = false;
        const got = recv();
        if (got === null) {
          closeNow = true;
          if (isTls && !(eofError && !hadHeaders)) error = SOCKET_ERR.TLS_CLOSE_NOTIFY;
          else if (cRcv > 0 || !hadHeaders) error = hadHeaders ? SOCKET_ERR.CLOSED : SOCKET_ERR.NO_RESP;
          if (!hadHeaders && !isTls && eofError && /ENOTFOUND|EAI_AGAIN/.test(String(eofError.code))) {
            error = SOCKET_ERR.NOT_FOUND;
          }
          if (!hadHeaders && eofError?.code === 'EHOSTUNREACH') {
            // the loopback rule (network.ts), without the synchronous connect: an async error
            host.print(`ERROR: Connect failed (err ${EHOSTUNREACH}): ${eofError.message}`);
            error = SOCKET_ERR.NO_ROUTE;
          }
        } else if (got.length) {
          progressed = true;
          receiveData += got;
          received();
        }
      }
      if (closeNow) {
        pushReceive(true);
        if (!receiveData) {
          done = true;
          try {
            nodeReq?.destroy();
          } catch {
            /* ignore */
          }
          const hadError = error < 0 && error !== SOCKET_ERR.CLOSED;
          if (hadError) {
            const e = errObj(error);
            queue.push(() => emit(req, 'error', e));
          }
          if (!resEnded) {
            resEnded = true;
            queue.push(() => emit(res, 'end'));
          }
          queue.push(() => emit(res, 'close', hadError));
          const r = release;
          release = undefined;
          queue.push(() => r?.());
        }
      }
      const q = queue;
      queue = [];
      for (const f of q) {
        f();
        flushBuffer();
      }
      if (done) return;
      if (progressed || rxBytes > 0 || eof || closeNow || (req as any).clsNow) wake();
      else if (hadHeaders && cRcv <= 0 && ended && !isTls) wake();
    }

    function attachSocket(sock: import('node:net').Socket) {
      sock.on('data', (d: Buffer | string) => {
        if (done) return;
        const b = Buffer.isBuffer(d) ? Buffer.from(d) : Buffer.from(String(d), 'latin1');
        if (!b.length) return;
        rx.push(b);
        rxBytes += b.length;
        wake();
      });
      const onEof = () => {
        eof = true;
        wake();
      };
      sock.on('end', onEof);
      sock.on('close', onEof);
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (!eofError) eofError = e;
        onEof();
      });
    }

    function connect() {
      if (connected) return;
      const hostName = opts.host === undefined ? '127.0.0.1' : asString(opts.host);
      let port = Number(opts.port) | 0;
      if (!(port > 0)) port = isHttps ? 443 : 80;
      let refused: NodeJS.ErrnoException | undefined;
      if (host.connectCheck) {
        const r = connectCheckSync(hostName, port, host.connectTimeoutMs ?? 2000);
        if (!r.ok) {
          if (r.dns) throw internalError('Unable to locate host');
          const why = r.notLoopback ? `: ${loopbackOnlyMessage(hostName, r.notLoopback)}` : '';
          host.print(`ERROR: Connect failed (err ${r.errno})${why}`);
          throw internalError('Unable to create socket');
        }
      } else if (net.isIP(hostName) && !isLoopbackAddress(hostName)) {
        // Node skips `lookup` for an address: refuse it here (host names go through loopbackLookup)
        refused = notLoopbackError(hostName, hostName);
      }
      connected = true;
      host.stats.requests++;
      release = host.hold();

      const { head, rawList, chunked: sendsChunked } = requestHead(opts, host.version);
      sendChunked = sendsChunked;
      host.stats.bytesOut += Buffer.byteLength(head, 'latin1');

      const mod = isTls ? https : http;
      const nodeOpts: https.RequestOptions = {
        host: hostName,
        port,
        path: typeof opts.path === 'string' && /^[\x21-\x7e]+$/.test(opts.path) ? opts.path : '/',
        method: 'GET',
        headers: rawList,
        agent: false,
        family: 4,
        lookup: loopbackLookup,
        insecureHTTPParser: true,
        setHost: false,
      } as https.RequestOptions;
      if (isTls) {
        nodeOpts.rejectUnauthorized = false;
        if (opts.ca !== undefined) nodeOpts.ca = opts.ca;
        if (opts.key !== undefined) nodeOpts.key = opts.key;
        if (opts.cert !== undefined) nodeOpts.cert = opts.cert;
      }
      if (refused) {
        eof = true;
        eofError = refused;
        wake();
        return;
      }
      let nr: http.ClientRequest;
      try {
        nr = mod.request(nodeOpts);
      } catch (e) {
        // e.g. an invalid header value for Node: behave like a connection that never answers
        connected = true;
        eof = true;
        eofError = e as NodeJS.ErrnoException;
        wake();
        return;
      }
      nodeReq = nr;
      host.onDispose?.(() => {
        done = true;
        nr.destroy();
      });
      // Send our own head verbatim (method "undefined", header order, no Host rewriting).
      (nr as any)._header = head;
      (nr as any).useChunkedEncodingByDefault = false;
      (nr as any).chunkedEncoding = false;
      // Node's own parser runs too; its result is ignored, but it must be drained (or it would
      // pause the socket) and its errors swallowed.
      nr.on('response', (r: http.IncomingMessage) => {
        r.on('error', () => {});
        r.resume();
      });
      nr.on('error', (e: NodeJS.ErrnoException) => {
        if (!eofError) eofError = e;
        eof = true;
        wake();
      });
      nr.on('close', () => {
        eof = true;
        wake();
      });
      nr.on('socket', (sock) => attachSocket(sock));
      wake();
    }

    function writeBody(data: unknown) {
      if (!nodeReq || data === undefined || ended) return;
      let buf = toLatin1Bytes(data);
      if (sendChunked) {
        buf = Buffer.concat([Buffer.from(buf.length.toString(16) + '\r\n', 'latin1'), buf, Buffer.from('\r\n', 'latin1')]);
      }
      if (!buf.length) return;
      host.stats.bytesOut += buf.length;
      nodeReq.write(buf);
    }

    const reqMethods = {
      write(data?: unknown) {
        connect();
        writeBody(data);
        return false;
      },
      end(data?: unknown) {
        connect();
        writeBody(data);
        if (!ended) {
          ended = true;
          if (nodeReq) {
            if (sendChunked) {
              host.stats.bytesOut += 5;
              nodeReq.write(Buffer.from('0\r\n\r\n', 'latin1'));
            }
            nodeReq.end();
          }
        }
      },
    };
    for (const [k, fn] of Object.entries(reqMethods)) {
      Object.defineProperty(req, k, { value: fn, writable: true, configurable: true, enumerable: false });
    }
    // httpCRs.available()/read() for code that reads the buffer instead of listening.
    Object.defineProperty(res, 'available', {
      value: () => (resBuffer === null ? 0 : resBuffer.length),
      writable: true,
      configurable: true,
      enumerable: false,
    });
    Object.defineProperty(res, 'read', {
      value: (n?: number) => {
        const b = resBuffer ?? '';
        const len = n && n > 0 ? Math.min(n, b.length) : b.length;
        const d = b.slice(0, len);
        resBuffer = len < b.length ? b.slice(len) : null;
        return d;
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
    return req;
  }

  return {
    request,
    get(options: unknown, cb?: (res: any) => void) {
      let opts: any = options;
      if (typeof opts === 'string') {
        const p = urlParse(opts);
        opts = host.newObject();
        Object.assign(opts, p);
      }
      if (isObjectLike(opts)) opts.method = 'GET';
      const req = request(opts, cb);
      req.end();
      return req;
    },
  };
}
