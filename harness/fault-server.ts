// The one misbehaving HTTP server of the test rig, with one vocabulary of fault modes
// (`Fault`). Responses are written by hand on a raw socket (status line, the given headers
// in the given order and case, a blank line, the body; nothing implicit), so a test
// controls every byte: Node's http server refuses to send a body that disagrees with its
// Content-Length. Two faces use it: harness/ota-server.ts (a server root with overriding
// routes, for device tests) and harness/golden-server.ts (the fixed routes the Espruino
// golden probes were recorded against).
//
// One request per connection: the server answers once it has the request head plus any
// body announced by Content-Length, ignores anything after it, and (unless the fault says
// otherwise) sends the whole response in ONE socket write and ends the connection. A
// client that connects and closes without a request is fine.
import { Buffer } from "node:buffer";
import net from "node:net";

/**
 * What the response does, beyond its status, headers and body:
 *  - `normal`: the whole response, then the connection ends;
 *  - `redirect`: the same as normal (a label for routes whose status is a redirect);
 *  - `truncate-after:N`: the head and the first N body bytes, then the connection ends;
 *  - `stall-after:N`: the head and the first N body bytes, then nothing, the connection open;
 *  - `silent`: no byte at all, the connection open;
 *  - `hangup`: the connection ends without a response;
 *  - `chunked`: the body in chunked transfer encoding, one chunk per element of `chunks`;
 *  - `echo`: the body is the request line and `name=value` per request header, one a line
 *    (a `Content-Length` header gets that body's length);
 *  - `extra:N`: the whole response, then N bytes ("A") more than the body.
 * Connections left open (stall-after, silent) close after `holdMs`, or with the server.
 */
export type Fault =
  | "normal"
  | "redirect"
  | `truncate-after:${number}`
  | `stall-after:${number}`
  | "silent"
  | "hangup"
  | "chunked"
  | "echo"
  | `extra:${number}`;

export interface FaultResponse {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: Buffer;
  fault: Fault;
  chunks?: string[]; // for "chunked"
}

export interface FaultRequest {
  requestLine: string;
  path: string;
  /** raw header lines: name as sent, value without leading blanks */
  headers: Array<[string, string]>;
}

export interface FaultServerOptions {
  /** The response to a request. */
  respond(req: FaultRequest): FaultResponse;
  /** How long a stalled or silent connection stays open at most (default: until close()). */
  holdMs?: number;
  /** Do not keep Node's event loop alive for the server. */
  unref?: boolean;
}

export interface FaultServer {
  port: number;
  url: string;
  /** Requests seen, in order. */
  log: FaultRequest[];
  close(): Promise<void>;
}

export function statusHead(status: number, reason: string, headers: Array<[string, string]>): string {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return s + "\r\n";
}

/** The value of a request header, matched without case, or undefined. */
export function requestHeader(req: FaultRequest, name: string): string | undefined {
  return req.headers.find(([k]) => k.toLowerCase() == name.toLowerCase())?.[1];
}

function send(sock: net.Socket, req: FaultRequest, r: FaultResponse, hold: () => void): void {
  const f = r.fault;
  if (f == "silent") return hold();
  if (f == "hangup") return void sock.end();
  if (f == "echo") {
    let body = req.requestLine + "\n";
    for (const [k, v] of req.headers) body += `${k}=${v}\n`;
    const bodyBuf = Buffer.from(body, "latin1");
    const h = r.headers.map(([k, v]) => [k, k.toLowerCase() == "content-length" ? String(bodyBuf.length) : v] as [string, string]);
    return void sock.end(Buffer.concat([Buffer.from(statusHead(r.status, r.reason, h), "latin1"), bodyBuf]));
  }
  if (f == "chunked") {
    let body = "";
    for (const c of r.chunks ?? []) body += `${Buffer.byteLength(c, "latin1").toString(16)}\r\n${c}\r\n`;
    body += "0\r\n\r\n";
    return void sock.end(Buffer.from(statusHead(r.status, r.reason, r.headers) + body, "latin1"));
  }
  const head = Buffer.from(statusHead(r.status, r.reason, r.headers), "latin1");
  const m = /^(truncate-after|stall-after|extra):(\d+)$/.exec(f);
  const n = m ? parseInt(m[2], 10) : 0;
  if (m?.[1] == "truncate-after") return void sock.end(Buffer.concat([head, r.body.subarray(0, n)]));
  if (m?.[1] == "stall-after") {
    sock.write(Buffer.concat([head, r.body.subarray(0, n)]));
    return hold();
  }
  // normal, redirect, extra:N
  sock.end(Buffer.concat([head, r.body, Buffer.alloc(n, 0x41)]));
}

export async function startFaultServer(opts: FaultServerOptions): Promise<FaultServer> {
  const sockets = new Set<net.Socket>();
  const log: FaultRequest[] = [];

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    let answered = false;
    const hold = () => {
      if (opts.holdMs === undefined) return;
      const safety = setTimeout(() => sock.destroy(), opts.holdMs);
      safety.unref();
      sock.on("close", () => clearTimeout(safety));
    };

    sock.on("data", (d) => {
      if (answered) return;
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
      const requestLine = lines[0];
      const headers: Array<[string, string]> = [];
      for (const line of lines.slice(1)) {
        const c = line.indexOf(":");
        if (c < 0) continue;
        headers.push([line.slice(0, c), line.slice(c + 1).replace(/^[ \t]+/, "")]);
      }
      const req: FaultRequest = { requestLine, path: requestLine.split(" ")[1] ?? "", headers };
      const want = parseInt(requestHeader(req, "content-length") ?? "0", 10) || 0;
      if (buf.length - (end + 4) < want) return;
      answered = true;
      log.push(req);
      send(sock, req, opts.respond(req), hold);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  if (opts.unref) server.unref();
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
