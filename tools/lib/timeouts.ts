// How long a server of releases waits for a client: one set of defaults for the dev server
// (tools/serve.ts) and the nginx config (tools/nginx.ts). A client that sends its request
// slowly, stops reading the answer or idles on a kept-alive connection is dropped, so it
// cannot hold a socket and an open file forever. A board never needs more: it gives up
// itself after opts.timeout (5 s by default) without a byte.
import { E_OPTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";

export interface ServerTimeouts {
  header: number; // ms to receive the request line and headers (nginx client_header_timeout)
  body: number; // ms between two reads of a request body (nginx client_body_timeout)
  send: number; // ms a client may take to accept more of the answer (nginx send_timeout)
  keepAlive: number; // ms a kept-alive connection may idle between requests (nginx keepalive_timeout)
}

export const SERVER_TIMEOUTS: ServerTimeouts = {
  header: 10_000,
  body: 10_000,
  send: 30_000,
  keepAlive: 5_000,
};

// `t` with the defaults for what it leaves out; refuses values a server cannot use.
export function serverTimeouts(t: Partial<ServerTimeouts> = {}): ServerTimeouts {
  const all = { ...SERVER_TIMEOUTS, ...t };
  for (const [k, v] of Object.entries(all)) {
    if (!Number.isInteger(v) || v <= 0) fail(E_OPTS, `timeout ${k} must be a whole number of ms above 0, not ${v}`);
  }
  return all;
}
