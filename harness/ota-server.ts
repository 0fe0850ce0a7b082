// A loopback HTTP server for device tests that can misbehave on purpose: it serves a
// server root like any static server, and individual paths can stall, truncate, send
// too much, fail or redirect. Responses are written by hand on the socket, so a test
// controls every byte (Node's http server refuses to send a body that disagrees with
// its Content-Length).
import { createServer, type Socket } from "node:net";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";

export interface Route {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** what goes wrong: stall before any byte, stall or close after N body bytes, send N extra bytes */
  fault?: { stallBeforeHeaders?: true; stallAfter?: number; closeAfter?: number; extra?: number };
}

export interface SeenRequest {
  path: string;
  headers: Record<string, string>;
}

export interface OtaServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  routes: Record<string, Route>;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error" };

export async function startOtaServer(opts: { root?: string; user?: string; password?: string } = {}): Promise<OtaServer> {
  const sockets = new Set<Socket>();
  const routes: Record<string, Route> = {};
  const requests: SeenRequest[] = [];

  function fromRoot(path: string): Route {
    if (!opts.root) return { status: 404, body: "not found\n" };
    const file = normalize(join(opts.root, decodeURIComponent(path)));
    if (!file.startsWith(normalize(opts.root)) || !existsSync(file) || !statSync(file).isFile()) return { status: 404, body: "not found\n" };
    return { status: 200, body: readFileSync(file) };
  }

  function respond(sock: Socket, r: Route) {
    const f = r.fault ?? {};
    if (f.stallBeforeHeaders) return;
    const body = Buffer.from(r.body ?? "");
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream", "Content-Length": String(body.length), ...r.headers };
    const status = r.status ?? 200;
    let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
    // An empty value leaves the header out, e.g. to send no Content-Length.
    for (const [k, v] of Object.entries(headers)) if (v !== "") head += `${k}: ${v}\r\n`;
    head += "\r\n";
    if (f.stallAfter !== undefined) return void sock.write(Buffer.concat([Buffer.from(head, "latin1"), body.subarray(0, f.stallAfter)]));
    if (f.closeAfter !== undefined) return void sock.end(Buffer.concat([Buffer.from(head, "latin1"), body.subarray(0, f.closeAfter)]));
    const extra = Buffer.alloc(f.extra ?? 0, 0x41);
    sock.end(Buffer.concat([Buffer.from(head, "latin1"), body, extra]));
  }

  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.slice(0, end).split("\r\n");
      buf = "\uffff"; // ignore anything after the request head
      const path = lines[0].split(" ")[1] ?? "/";
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i)] = l.slice(i + 1).trim();
      }
      requests.push({ path, headers });
      if (opts.user) {
        const want = "Basic " + Buffer.from(`${opts.user}:${opts.password}`).toString("base64");
        const got = Object.entries(headers).find(([k]) => k.toLowerCase() === "authorization")?.[1];
        if (got !== want) return respond(sock, { status: 401, headers: { "WWW-Authenticate": 'Basic realm="ota"' }, body: "unauthorized\n" });
      }
      respond(sock, routes[path] ?? fromRoot(path));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    routes,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
