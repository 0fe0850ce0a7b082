// `serve`: a static development server for releases, with optional Basic auth and
// TLS, that logs every request and, for device checks of <project>/version, the
// identity headers the device sent (formats.H_VERSION, H_BOARD, H_FIRMWARE, H_ID).
// Every board asks <project>/version at every boot and check, so that answer is kept
// small, as in the nginx config (tools/nginx.ts): a full 200 with Content-Length and
// Cache-Control only (no ETag, Last-Modified, Accept-Ranges or Content-Type).
// Safe by default: what it serves is decided by tools/lib/static.ts and servable.ts (the
// same paths as nginx), how long it waits for a client by tools/lib/timeouts.ts, and its
// generated certificate lives in a private folder (tools/lib/tls.ts).
import * as http from "node:http";
import * as https from "node:https";
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID, E_OPTS, E_MISSING, VERSION_FILE } from "../modules/formats.ts";
import { fail } from "./lib/errors.ts";
import { authorized, challenge } from "./lib/auth.ts";
import { serveStatic, sendText, requestPath } from "./lib/static.ts";
import { selfSignedCert } from "./lib/tls.ts";
import { serverTimeouts, type ServerTimeouts } from "./lib/timeouts.ts";

export interface ServeLogEntry {
  time: string; // ISO 8601
  remote: string; // remote address
  method: string;
  path: string; // decoded URL path
  status: number;
  check: boolean; // a device check of <project>/version
  project?: string; // for checks
  version?: string; // H_VERSION: the version the device has installed
  board?: string; // H_BOARD
  firmware?: string; // H_FIRMWARE
  id?: string; // H_ID
  range?: string;
  line: string; // the whole entry as one line of text
}

export interface ServeOptions {
  root: string;
  port?: number; // 0 (default): any free port
  host?: string; // default 127.0.0.1
  user?: string; // with password: require HTTP Basic auth
  password?: string; // never empty
  tls?: boolean | { cert: string | Buffer; key: string | Buffer }; // true: cached self-signed cert
  tlsDir?: string; // where tls: true keeps its certificate (default: tools/lib/tls.ts defaultTlsDir())
  timeouts?: Partial<ServerTimeouts>; // default SERVER_TIMEOUTS
  log?: (entry: ServeLogEntry) => void; // default: the line on stdout
}

export interface ServeHandle {
  port: number;
  url: string; // base URL, e.g. http://127.0.0.1:8080
  cert?: string; // PEM of the certificate in use, with tls
  close(): Promise<void>;
}

// Header values are untrusted: show them on one line, quoted if they hold anything
// but printable ASCII without spaces.
function show(v: string | undefined): string {
  if (v === undefined || v === "") return "-";
  return /^[\x21-\x7e]+$/.test(v) && v.indexOf('"') < 0 ? v : JSON.stringify(v);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}

const VERSION_PATH = new RegExp("^/(.+)/" + VERSION_FILE + "$");

export function logEntry(req: http.IncomingMessage, status: number, time = new Date()): ServeLogEntry {
  const p = requestPath(req) ?? req.url ?? "";
  const m = VERSION_PATH.exec(p);
  const e: ServeLogEntry = {
    time: time.toISOString(),
    remote: req.socket.remoteAddress ?? "-",
    method: req.method ?? "-",
    path: p,
    status,
    check: !!m,
    version: header(req, H_VERSION),
    board: header(req, H_BOARD),
    firmware: header(req, H_FIRMWARE),
    id: header(req, H_ID),
    range: header(req, "range"),
    line: "",
  };
  if (m) e.project = m[1];
  const ident = `v=${show(e.version)} board=${show(e.board)} fw=${show(e.firmware)} id=${show(e.id)}`;
  e.line = [e.time, e.remote, e.method, show(e.path), status, e.check ? "check" : "file", ident]
    .concat(e.range ? ["range=" + show(e.range)] : [])
    .join(" ");
  return e;
}

// The version file of a project, as nginx's `location ~ "/version$"`.
function isVersionFile(rel: string): boolean {
  return rel == VERSION_FILE || rel.endsWith("/" + VERSION_FILE);
}

export async function serve(opts: ServeOptions): Promise<ServeHandle> {
  if (!opts.root) fail(E_OPTS, "no root given");
  let root: string;
  try {
    root = await fsp.realpath(path.resolve(opts.root));
    if (!(await fsp.stat(root)).isDirectory()) throw new Error();
  } catch {
    fail(E_MISSING, `server root ${opts.root} is not a directory: give the folder \`release --root\` publishes into`);
  }
  if ((opts.user === undefined) != (opts.password === undefined)) fail(E_OPTS, "give both user and password for Basic auth, or neither");
  if (opts.user === "") fail(E_OPTS, "the Basic auth user name is empty");
  if (opts.password === "") fail(E_OPTS, "the Basic auth password is empty: anyone could log in with an empty one; give a password, or no user for a server without auth");
  const t = serverTimeouts(opts.timeouts);
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? ((e: ServeLogEntry) => console.log(e.line));

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on("finish", () => {
      try {
        log(logEntry(req, res.statusCode));
      } catch { /* a failing logger must not take the server down */ }
    });
    if (opts.user !== undefined && !authorized(req, opts.user, opts.password!)) {
      return sendText(res, 401, "Unauthorized", { "WWW-Authenticate": challenge() });
    }
    serveStatic(req, res, { root, lean: isVersionFile }).catch(() => {
      if (!res.headersSent) sendText(res, 500, "Internal server error");
      else res.destroy();
    });
  };

  // Node's own limits: headersTimeout for the request head, requestTimeout for the whole
  // request (a GET has no body, so head + body time), handshakeTimeout for TLS. They are
  // checked every connectionsCheckingInterval (30 s by default, too coarse for them).
  // server.timeout (below) is the idle limit of a socket, a client that stops reading
  // included; destroying the socket closes the file it was being sent.
  const limits: http.ServerOptions & { handshakeTimeout?: number } = {
    headersTimeout: t.header,
    requestTimeout: t.header + t.body,
    keepAliveTimeout: t.keepAlive,
    connectionsCheckingInterval: Math.min(1000, t.header),
    handshakeTimeout: t.header,
  };
  let server: http.Server | https.Server;
  let cert: string | undefined;
  if (opts.tls) {
    let pair: { cert: string | Buffer; key: string | Buffer };
    if (opts.tls === true) {
      const hosts = ["localhost", "127.0.0.1", "::1"];
      if (host != "0.0.0.0" && host != "::" && hosts.indexOf(host) < 0) hosts.push(host);
      pair = await selfSignedCert(hosts, opts.tlsDir);
    } else pair = opts.tls;
    cert = pair.cert.toString();
    server = https.createServer({ ...limits, cert: pair.cert, key: pair.key }, handler);
  } else {
    server = http.createServer(limits, handler);
  }
  server.timeout = t.send;
  // A socket idle that long: with an answer still queued the client stopped reading, so it
  // is reset (as nginx's reset_timedout_connection), which frees the queued data at once;
  // a plain close would leave the kernel probing a full window for minutes.
  server.on("timeout", (socket: import("node:net").Socket) => {
    if (socket.writableLength > 0) socket.resetAndDestroy();
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
  const url = `${opts.tls ? "https" : "http"}://${shown.indexOf(":") >= 0 ? `[${shown}]` : shown}:${port}`;
  return {
    port,
    url,
    cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
