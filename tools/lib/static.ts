// Static file responses for the dev server: regular files only (no directory listing, no
// fifo, device or socket), never outside the root and through no symlink, only the paths
// tools/lib/servable.ts allows (as the nginx config), always with Content-Length (Espruino
// needs it; never chunked), single Range requests (206/416), ETag/If-None-Match and
// If-Modified-Since (304). Files the caller marks `lean` (the version file every board
// polls) get a plain 200 with Content-Length and Cache-Control only, as tools/nginx.ts
// configures nginx.
import { promises as fsp, constants as fsc } from "node:fs";
import * as path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { relPathError } from "./paths.ts";
import { servablePath } from "./servable.ts";
import { VERSION_FILE } from "../../modules/formats.ts";

// NOFOLLOW: the last part may have been swapped for a symlink since it was checked.
// NONBLOCK: opening a fifo for reading would wait for a writer, in one of libuv's four
// pool threads, so four such requests would stall every file operation of the server;
// for a regular file it changes nothing.
const OPEN_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

const TYPES: Record<string, string> = {
  ".js": "application/javascript",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css",
};

export function contentType(file: string): string {
  if (path.basename(file) == VERSION_FILE) return "text/plain; charset=utf-8";
  return TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

// Ends `res` with a small text body and its Content-Length.
export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body + "\n", "utf8");
  res.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(buf.length) });
  res.end(res.req?.method == "HEAD" ? undefined : buf);
}

// URL path of a request, percent-decoded, or undefined if it cannot be decoded.
export function requestPath(req: IncomingMessage): string | undefined {
  const raw = (req.url ?? "/").split("?")[0].split("#")[0];
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

export interface Range {
  start: number;
  end: number; // inclusive
}

// Parses a Range header against a file of `size` bytes: a Range to serve, "unsatisfiable",
// or undefined to ignore it and send the whole file (absent, malformed or multi-range).
export function parseRange(header: string | undefined, size: number): Range | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!m || (m[1] == "" && m[2] == "")) return undefined;
  if (m[1] == "") {
    const n = Number(m[2]); // suffix: last n bytes
    if (n == 0 || size == 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  let end = m[2] == "" ? size - 1 : Number(m[2]);
  if (m[2] != "" && end < start) return undefined; // invalid: ignored
  if (start >= size) return "unsatisfiable";
  if (end >= size) end = size - 1;
  return { start, end };
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() == "*") return true;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => bare(t) == bare(etag));
}

export interface StaticOptions {
  root: string; // real path of the server root
  // true for a path (relative to the root, "/"-separated) to answer with the fewest
  // headers: always a full 200 (no validators, so no 304; no ranges), no Content-Type
  lean?: (rel: string) => boolean;
}

// Answers a GET/HEAD request from files below `opts.root`.
export async function serveStatic(req: IncomingMessage, res: ServerResponse, opts: StaticOptions): Promise<void> {
  if (req.method != "GET" && req.method != "HEAD") return sendText(res, 405, "Method not allowed", { Allow: "GET, HEAD" });
  const p = requestPath(req);
  if (p === undefined || !p.startsWith("/")) return sendText(res, 400, "Bad request");
  const rel = p.slice(1);
  if (rel == "" || rel.endsWith("/")) return sendText(res, 404, "Not found"); // no directory listings
  if (relPathError(rel)) return sendText(res, 400, "Bad request");
  if (!servablePath(p)) return sendText(res, 404, "Not found");

  const local = path.join(opts.root, ...rel.split("/"));
  let fh: import("node:fs/promises").FileHandle;
  try {
    // No symlink anywhere below the root, as nginx's `disable_symlinks on`: where a link
    // points is the business of whoever can write the root, not of the server.
    if ((await fsp.realpath(local)) !== local) return sendText(res, 404, "Not found");
    // Not even opened unless it is a regular file: opening a device can have effects.
    if (!(await fsp.lstat(local)).isFile()) return sendText(res, 404, "Not found");
    fh = await fsp.open(local, OPEN_FLAGS);
  } catch {
    return sendText(res, 404, "Not found");
  }
  let handedOff = false;
  try {
    // Stat the open file, not the path: a release may rename a new file over it meanwhile.
    const st = await fh.stat();
    if (!st.isFile()) return sendText(res, 404, "Not found");
    if (opts.lean?.(rel)) {
      res.writeHead(200, { "Cache-Control": "no-cache", "Content-Length": String(st.size) });
      if (req.method == "HEAD" || st.size == 0) {
        res.end();
        return;
      }
      // Small by design (a version string): one read, no stream.
      const body = Buffer.alloc(st.size);
      const { bytesRead } = await fh.read(body, 0, st.size, 0);
      if (bytesRead != st.size) {
        res.destroy(); // shrank under us: a short body would be an ESIZE on the board
        return;
      }
      res.end(body);
      return;
    }
    const etag = `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      "Last-Modified": st.mtime.toUTCString(),
      "Accept-Ranges": "bytes",
      "Cache-Control": "no-cache",
      "Content-Type": contentType(local),
    };
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    if (inm !== undefined ? etagMatches(inm, etag) : ims !== undefined && Math.floor(st.mtimeMs / 1000) * 1000 <= Date.parse(ims)) {
      res.writeHead(304, { ETag: etag, "Last-Modified": headers["Last-Modified"], "Cache-Control": "no-cache" });
      res.end();
      return;
    }
    let range = parseRange(req.headers.range, st.size);
    const ifRange = req.headers["if-range"] as string | undefined;
    if (range !== undefined && ifRange !== undefined && ifRange.trim() != etag) range = undefined;
    if (range == "unsatisfiable") return sendText(res, 416, "Range not satisfiable", { "Content-Range": `bytes */${st.size}` });
    let start = 0;
    let end = st.size - 1;
    if (range) {
      ({ start, end } = range);
      headers["Content-Range"] = `bytes ${start}-${end}/${st.size}`;
    }
    headers["Content-Length"] = String(end - start + 1);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method == "HEAD" || st.size == 0) {
      res.end();
      return;
    }
    const stream = fh.createReadStream({ start, end, autoClose: true });
    handedOff = true;
    stream.on("error", () => res.destroy());
    stream.pipe(res);
    await new Promise<void>((resolve) => {
      res.on("close", () => {
        stream.destroy();
        resolve();
      });
    });
  } finally {
    if (!handedOff) await fh.close();
  }
}
