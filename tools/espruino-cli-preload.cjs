// Loaded with `node --require` into every espruino CLI process that tools/espruino-cli.ts
// starts. It keeps the CLI off the web: EspruinoTools fetches modules and board JSON over
// http(s) whenever a lookup falls through (module not found locally, --board NAME).
// Those fetches are refused here unless they go to a loopback address, so a missing module
// fails fast and visibly instead of hanging or silently pulling code from espruino.com.
// Connections to boards (-p tcp://host) use net, not http, and are not touched.
"use strict";
const http = require("http");
const https = require("https");

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/i;

function hostOf(args) {
  const a = args[0];
  try {
    if (typeof a == "string") return new URL(a).hostname;
    if (a instanceof URL) return a.hostname;
    if (a && typeof a == "object") return String(a.hostname || a.host || "localhost").replace(/:\d+$/, "");
  } catch (e) {
    /* fall through */
  }
  return "";
}

function guard(mod, name) {
  for (const fn of ["request", "get"]) {
    const orig = mod[fn];
    mod[fn] = function (...args) {
      const host = hostOf(args);
      if (LOOPBACK.test(host)) return orig.apply(this, args);
      const a = args[0];
      const what = typeof a == "string" || a instanceof URL ? String(a) : `${name}://${(a && (a.host || a.hostname)) || host}${(a && a.path) || ""}`;
      process.stderr.write(`espruino-ota: blocked web access to ${what} (the espruino CLI must stay offline)\n`);
      // Behave like an unreachable host: an 'error' on a request object, on the next tick.
      const req = orig.call(this, { host: "127.0.0.1", port: 9, path: "/", method: "GET" });
      req.destroy(Object.assign(new Error(`blocked: ${what}`), { code: "EBLOCKED" }));
      return req;
    };
  }
}
guard(http, "http");
guard(https, "https");
