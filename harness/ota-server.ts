// A loopback HTTP server for device tests that can misbehave on purpose: it serves a
// server root like any static server, and individual paths (`routes`) can answer
// otherwise, with any status, headers and body, and a fault mode from the harness's one
// vocabulary (harness/fault-server.ts: stall, truncate, send too much, hang up...).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import { startFaultServer, requestHeader, type Fault, type FaultResponse } from "./fault-server.ts";

/**
 * The fault spelling that device tests written before the one vocabulary still use
 * (test/ota-errors.test.ts); each field maps to one fault mode (see `faultOf`). New tests
 * use `Route.behaviour`.
 */
export interface LegacyFault {
  stallBeforeHeaders?: true; // "silent"
  stallAfter?: number; // "stall-after:N"
  closeAfter?: number; // "truncate-after:N"
  extra?: number; // "extra:N"
}

export interface Route {
  status?: number;
  /** merged over Content-Type (octet-stream) and Content-Length; an empty value leaves a header out */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** what goes wrong, in the harness's fault vocabulary (default "normal") */
  behaviour?: Fault;
  /** the same in the older spelling; ignored when `behaviour` is given */
  fault?: LegacyFault;
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

function faultOf(r: Route): Fault {
  if (r.behaviour) return r.behaviour;
  const f = r.fault ?? {};
  if (f.stallBeforeHeaders) return "silent";
  if (f.stallAfter !== undefined) return `stall-after:${f.stallAfter}`;
  if (f.closeAfter !== undefined) return `truncate-after:${f.closeAfter}`;
  if (f.extra !== undefined) return `extra:${f.extra}`;
  return "normal";
}

function response(r: Route): FaultResponse {
  const body = Buffer.from(r.body ?? "");
  const status = r.status ?? 200;
  const merged: Record<string, string> = { "Content-Type": "application/octet-stream", "Content-Length": String(body.length), ...r.headers };
  const headers = Object.entries(merged).filter(([, v]) => v !== "");
  return { status, reason: REASONS[status] ?? "Status", headers, body, fault: faultOf(r) };
}

export async function startOtaServer(opts: { root?: string; user?: string; password?: string } = {}): Promise<OtaServer> {
  const routes: Record<string, Route> = {};
  const requests: SeenRequest[] = [];

  function fromRoot(path: string): Route {
    if (!opts.root) return { status: 404, body: "not found\n" };
    const file = normalize(join(opts.root, decodeURIComponent(path)));
    if (!file.startsWith(normalize(opts.root)) || !existsSync(file) || !statSync(file).isFile()) return { status: 404, body: "not found\n" };
    return { status: 200, body: readFileSync(file) };
  }

  const srv = await startFaultServer({
    respond(req) {
      requests.push({ path: req.path || "/", headers: Object.fromEntries(req.headers.map(([k, v]) => [k, v.trim()])) });
      if (opts.user) {
        const want = "Basic " + Buffer.from(`${opts.user}:${opts.password}`).toString("base64");
        if (requestHeader(req, "authorization")?.trim() !== want)
          return response({ status: 401, headers: { "WWW-Authenticate": 'Basic realm="ota"' }, body: "unauthorized\n" });
      }
      return response(routes[req.path || "/"] ?? fromRoot(req.path || "/"));
    },
  });
  return { url: srv.url, port: srv.port, requests, routes, close: () => srv.close() };
}
