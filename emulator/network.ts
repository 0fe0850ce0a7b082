/**
 * The board's network, under the http client: Espruino's socket error codes, and the
 * synchronous connect of the ESP32/Linux builds (a persistent worker does the DNS lookup and
 * TCP connect while the main thread blocks on `Atomics.wait`).
 */

import { constants as osConstants } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Espruino socket error codes (`libs/network/socketerrors.h`). */
export const SOCKET_ERR = {
  CLOSED: -1,
  MEM: -2,
  TIMEOUT: -3,
  NO_ROUTE: -4,
  BUSY: -5,
  NOT_FOUND: -6,
  MAX_SOCK: -7,
  UNSENT_DATA: -8,
  RESET: -9,
  UNKNOWN: -10,
  NO_CONN: -11,
  BAD_ARGS: -12,
  SSL_HANDSHAKE: -13,
  SSL_INVALID: -14,
  NO_RESP: -15,
  /** mbedTLS MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: the normal end of every HTTPS response. */
  TLS_CLOSE_NOTIFY: -30848,
} as const;

const SOCKET_ERROR_STRINGS = [
  'connection closed',
  'out of memory',
  'timeout',
  'no route',
  'busy',
  'not found',
  'max sockets',
  'unsent data',
  'connection reset',
  'unknown error',
  'no connection',
  'bad argument',
  'SSL handshake failed',
  'invalid SSL data',
  'no response',
];

/** `socketErrorString` from the firmware: codes beyond the table are "unknown error". */
export function socketErrorString(code: number): string {
  if (code >= 0) return '';
  if (code < -SOCKET_ERROR_STRINGS.length) code = SOCKET_ERR.UNKNOWN;
  return SOCKET_ERROR_STRINGS[-1 - code];
}


// ---------------------------------------------------------------------------------------------
// Synchronous connect check: a persistent worker does dns.lookup + net.connect while the main
// thread blocks on Atomics.wait.

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const dns = require('node:dns');
const net = require('node:net');
const os = require('node:os');
parentPort.on('message', (msg) => {
  const i32 = new Int32Array(msg.sab);
  let finished = false;
  const done = (status, errno) => {
    if (finished) return;
    finished = true;
    Atomics.store(i32, 1, status);
    Atomics.store(i32, 2, errno);
    Atomics.store(i32, 0, 1);
    Atomics.notify(i32, 0);
  };
  dns.lookup(msg.host, { family: 4 }, (err, addr) => {
    if (err) return done(2, 0);
    const s = net.connect({ host: addr, port: msg.port });
    s.once('connect', () => { s.destroy(); done(1, 0); });
    s.once('error', (e) => {
      s.destroy();
      const n = typeof e.errno === 'number' ? Math.abs(e.errno) : (os.constants.errno[e.code] || 0);
      done(3, n);
    });
    s.setTimeout(msg.timeout, () => { s.destroy(); done(3, os.constants.errno.ETIMEDOUT || 110); });
  });
});
`;

let checkWorker: Worker | undefined;

function getWorker(): Worker {
  if (!checkWorker) {
    checkWorker = new Worker(WORKER_SOURCE, { eval: true });
    checkWorker.unref();
    checkWorker.on('error', () => {
      checkWorker = undefined;
    });
    checkWorker.on('exit', () => {
      checkWorker = undefined;
    });
  }
  return checkWorker;
}

export type ConnectResult = { ok: true } | { ok: false; dns: true } | { ok: false; dns: false; errno: number };

/** Blocking DNS lookup + TCP connect (then closed at once). */
export function connectCheckSync(host: string, port: number, timeoutMs = 2000): ConnectResult {
  const sab = new SharedArrayBuffer(12);
  const i32 = new Int32Array(sab);
  getWorker().postMessage({ sab, host, port, timeout: timeoutMs });
  // The first call also pays for the worker start-up.
  const r = Atomics.wait(i32, 0, 0, timeoutMs + 1000);
  if (r === 'timed-out') {
    return { ok: false, dns: false, errno: osConstants.errno.ETIMEDOUT ?? 110 };
  }
  const status = Atomics.load(i32, 1);
  if (status === 1) return { ok: true };
  if (status === 2) return { ok: false, dns: true };
  return { ok: false, dns: false, errno: Atomics.load(i32, 2) };
}
