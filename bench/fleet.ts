// Fleet load: N lightweight simulated boards each send one check() request, as the device
// does (GET <project>/version, Connection: close, Basic auth, identity headers), at a
// jittered time inside a window, through Node's http with no keep-alive, at most
// `concurrency` at once (nginx's worker_connections is 64).
import http from "node:http";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID } from "../modules/formats.ts";

export interface FleetResult {
  n: number;
  windowS: number;
  concurrency: number;
  elapsedS: number;
  ok: number;
  errors: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxStartLagMs: number; // how late the last slot started against its scheduled time (client queueing)
  bytesPerCheck: number; // HTTP bytes on the wire, both ways
  dailyBytesPer10Min: number;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function fleet(o: { url: string; project: string; user: string; password: string; n: number; windowMs: number; concurrency: number; burst?: boolean }): Promise<FleetResult> {
  const u = new URL(o.url);
  const auth = "Basic " + Buffer.from(`${o.user}:${o.password}`).toString("base64");
  const schedule = Array.from({ length: o.n }, () => (o.burst ? 0 : Math.random() * o.windowMs)).sort((a, b) => a - b);
  const lat: number[] = [];
  let ok = 0, errors = 0, bytes = 0, maxLag = 0, next = 0;
  const t0 = performance.now();
  const hardStop = t0 + o.windowMs + 60_000; // bounded: give up 60 s after the window

  function one(i: number): Promise<void> {
    return new Promise((resolve) => {
      const start = performance.now();
      maxLag = Math.max(maxLag, start - t0 - schedule[i]);
      const req = http.request({
        host: u.hostname, port: u.port, path: `/${o.project}/version`, method: "GET", agent: false,
        headers: {
          "User-Agent": "Espruino 2v29.277", Connection: "close", Authorization: auth,
          [H_VERSION]: "v1", [H_BOARD]: "ESP32", [H_FIRMWARE]: "2v29.277", [H_ID]: (0x30aea4000000 + i).toString(16),
        },
        timeout: 5000,
      }, (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          lat.push(performance.now() - start);
          if (res.statusCode == 200) ok++; else errors++;
          bytes += (req.socket?.bytesWritten ?? 0) + (req.socket?.bytesRead ?? 0);
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => { errors++; resolve(); });
      req.end();
    });
  }

  async function worker() {
    while (next < o.n && performance.now() < hardStop) {
      const i = next++;
      const wait = t0 + schedule[i] - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await one(i);
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedS = (performance.now() - t0) / 1000;
  errors += o.n - ok - errors; // never started (hard stop)
  const per = ok ? bytes / ok : NaN;
  return {
    n: o.n, windowS: o.windowMs / 1000, concurrency: o.concurrency, elapsedS: +elapsedS.toFixed(2), ok, errors,
    reqPerS: Math.round(ok / elapsedS), p50Ms: +pct(lat, 50).toFixed(2), p99Ms: +pct(lat, 99).toFixed(2),
    maxStartLagMs: Math.round(maxLag), bytesPerCheck: Math.round(per), dailyBytesPer10Min: Math.round(per * 144),
  };
}
