/**
 * The board's network, under the http client: Espruino's socket error codes, the synchronous
 * connect of the ESP32/Linux builds (a persistent worker does the DNS lookup and TCP connect
 * while the main thread blocks on `Atomics.wait`), and the emulator's one rule of its own: it
 * reaches only loopback (127.0.0.0/8 and ::1). Any other address fails as an unreachable host
 * would (EHOSTUNREACH), before a packet leaves, so a test can never talk to a real network.
 */

import dns from 'node:dns';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { Worker } from 'node:worker_threads';

/** errno of an unreachable host: what a connection to a non-loopback address fails with here */
export const EHOSTUNREACH = osConstants.errno.EHOSTUNREACH ?? 113;

/** Why a connection was refused by the emulator's loopback rule (a console line says it). */
export const loopbackOnlyMessage = (host: string, address: string): string =>
  `the emulator connects only to loopback (127.0.0.0/8, ::1); ${host} is ${address}`;

export function isLoopbackAddress(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith('127.');
  if (address.startsWith('::ffff:')) return isLoopbackAddress(address.slice(7));
  return address === '::1';
}

/** An error with code EHOSTUNREACH whose message says the emulator allows only loopback. */
export function notLoopbackError(host: string, address: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(loopbackOnlyMessage(host, address));
  e.code = 'EHOSTUNREACH';
  e.errno = -EHOSTUNREACH;
  return e;
}

/** A `lookup` for Node's http: resolves as usual, but fails for any non-loopback address. */
export const loopbackLookup: net.LookupFunction = (host, options, callback) => {
  dns.lookup(host, { ...options, all: false }, (err, address, family) => {
    if (err) return callback(err, '', 0);
    if (!isLoopbackAddress(address)) return callback(notLoopbackError(host, address), '', 0);
    callback(null, address, family);
  });
};

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
  const done = (status, errno, ipv4) => {
    if (finished) return;
    finished = true;
    Atomics.store(i32, 1, status);
    Atomics.store(i32, 2, errno);
    Atomics.store(i32, 3, ipv4 || 0);
    Atomics.store(i32, 0, 1);
    Atomics.notify(i32, 0);
  };
  dns.lookup(msg.host, { family: 4 }, (err, addr) => {
    if (err) return done(2, 0);
    // the loopback rule (isLoopbackAddress; IPv4 only here, as the lookup is)
    if (!/^127\./.test(addr)) return done(4, ${EHOSTUNREACH}, addr.split('.').reduce((n, b) => (n << 8) | Number(b), 0));
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

export type ConnectResult =
  | { ok: true }
  | { ok: false; dns: true }
  | { ok: false; dns: false; errno: number; notLoopback?: string };

/**
 * Blocking DNS lookup + TCP connect (then closed at once). An address outside loopback is not
 * connected to: `notLoopback` is that address, and `errno` EHOSTUNREACH.
 */
export function connectCheckSync(host: string, port: number, timeoutMs = 2000): ConnectResult {
  const sab = new SharedArrayBuffer(16);
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
  if (status === 4) {
    const ip = Atomics.load(i32, 3) >>> 0;
    return { ok: false, dns: false, errno: EHOSTUNREACH, notLoopback: [24, 16, 8, 0].map((b) => (ip >>> b) & 255).join('.') };
  }
  return { ok: false, dns: false, errno: Atomics.load(i32, 2) };
}
