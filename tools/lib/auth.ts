// HTTP Basic authentication for the dev server.
import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REALM = "espruino-ota";

export function basicHeader(user: string, password: string): string {
  return "Basic " + Buffer.from(user + ":" + password, "utf8").toString("base64");
}

function same(a: string, b: string): boolean {
  // Compare digests so that neither length nor content leaks through timing.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

// True if `req` carries the right Basic credentials.
export function authorized(req: IncomingMessage, user: string, password: string): boolean {
  const h = req.headers.authorization;
  if (!h) return false;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!m) return false;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return false;
  const okUser = same(text.slice(0, colon), user);
  const okPass = same(text.slice(colon + 1), password);
  return okUser && okPass;
}

export function challenge(): string {
  return `Basic realm="${REALM}", charset="UTF-8"`;
}
