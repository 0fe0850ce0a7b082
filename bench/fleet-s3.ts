// The fleet figure for object storage (issue 13): what N boards checking every T minutes
// cost in requests and bytes when the releases are served from an S3-compatible bucket.
// Measured: the bytes and requests of one no-op check and of one small update, by an
// emulated ESP32 against a real S3-protocol server (s3rver, on 127.0.0.1) holding a
// release published with `release --root s3://…`. Computed from those: requests and bytes
// a day, and their price at the list prices stated in PRICES (with their source and date).
// Also: startS3Server, the S3-protocol server the tests use too.
import { mkdtempSync, writeFileSync, rmSync, promises as fsp } from "node:fs";
import { createRequire } from "node:module";
import { format } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { release } from "../tools/release.ts";
import { otaBoard, call } from "../harness/device.ts";

// A Koa middleware of s3rver's (ctx.store is its object store).
export type S3Middleware = (ctx: any, next: () => Promise<unknown>) => Promise<unknown>;

export interface S3Server {
  endpoint: string; // http://127.0.0.1:<port>
  bucket: string;
  log: string[]; // the server's own log lines, in order
  stop(): Promise<void>;
}

export const S3RVER_ACCOUNT = "S3RVER"; // s3rver's built-in access key id and secret

// s3rver (npm) on 127.0.0.1, an ephemeral port, a fresh folder; `first` runs before
// s3rver's own handling of each request (Koa composes them when the server starts).
export async function startS3Server(opts: { bucket: string; first?: S3Middleware[] }): Promise<S3Server> {
  const S3rver = createRequire(import.meta.url)("s3rver"); // ships no types
  const dir = mkdtempSync(join(tmpdir(), "ota-s3rver-"));
  const srv = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: opts.bucket }] });
  srv.middleware.unshift(...(opts.first ?? []));
  const log: string[] = [];
  // s3rver logs through winston, whose logger is a stream of log records.
  srv.logger.on("data", (info: any) => log.push(format(info.message, ...(info[Symbol.for("splat")] ?? []))));
  const { port } = await srv.run();
  return {
    endpoint: `http://127.0.0.1:${port}`, bucket: opts.bucket, log,
    async stop() {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// List prices assumed for the cost lines; not re-checked when the bench runs (it has no
// network). Source: the providers' pricing pages as they stood in January 2025.
export const PRICES = {
  source: "aws.amazon.com/s3/pricing (S3 Standard, us-east-1) and developers.cloudflare.com/r2/pricing, list prices as of 2025-01, before free tiers; not re-checked by the bench",
  s3GetPer1000: 0.0004, // USD per 1,000 GET requests
  s3EgressPerGB: 0.09, // USD per GB out to the internet (first 10 TB a month)
  r2ClassBPerMillion: 0.36, // USD per million Class B (read) operations; R2 egress is free
};

export interface FleetS3Row {
  boards: number;
  checkEveryMin: number;
  requestsPerDay: number;
  mbPerDay: number; // no-op checks only: HTTP bytes both ways
  s3UsdPerMonth: number; // GETs + egress, 30 days, no CDN
  r2UsdPerMonth: number;
}

export interface FleetS3Result {
  measured: { server: string; noopCheck: { requests: number; bytesOut: number; bytesIn: number }; update: { requests: number; bytes: number; releaseBytes: number } };
  rows: FleetS3Row[];
  cdnNote: string;
  prices: typeof PRICES;
}

export async function fleetS3(): Promise<FleetS3Result> {
  const env = { AWS_ACCESS_KEY_ID: S3RVER_ACCOUNT, AWS_SECRET_ACCESS_KEY: S3RVER_ACCOUNT, AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const s3 = await startS3Server({ bucket: "bench" });
  const src = mkdtempSync(join(tmpdir(), "ota-bench-s3-"));
  try {
    const app = join(src, "app.js");
    writeFileSync(app, "x".repeat(1024));
    const project = "fleet";
    const opts = { host: `${s3.endpoint}/bench/ota`, project, files: ["app"] };
    const publish = (version: string) => release({ root: "s3://bench/ota", endpoint: s3.endpoint, pathStyle: true, project, version, files: [{ name: "app", path: app }] });
    await publish("v1");
    const b = otaBoard("ESP32");
    b.powerOn();
    let s0 = { ...b.httpStats };
    const u = await call(b, "update", opts);
    if (!u.result?.updated) throw new Error(`fleet-s3: the update failed: ${JSON.stringify(u)}`);
    await b.run({ timeout: 10000 }); // the reset, and the boot stage's install
    const update = { requests: b.httpStats.requests - s0.requests, bytes: b.httpStats.bytesOut - s0.bytesOut + b.httpStats.bytesIn - s0.bytesIn, releaseBytes: 1024 };
    s0 = { ...b.httpStats };
    const c = await call(b, "check", opts);
    if (c.result?.available !== false) throw new Error(`fleet-s3: the no-op check failed: ${JSON.stringify(c)}`);
    const noopCheck = { requests: b.httpStats.requests - s0.requests, bytesOut: b.httpStats.bytesOut - s0.bytesOut, bytesIn: b.httpStats.bytesIn - s0.bytesIn };
    const perCheck = noopCheck.bytesOut + noopCheck.bytesIn;

    const rows: FleetS3Row[] = [];
    for (const boards of [100, 1000, 10_000, 100_000]) {
      for (const checkEveryMin of [10, 60]) {
        const requestsPerDay = boards * noopCheck.requests * (1440 / checkEveryMin);
        const bytesPerDay = requestsPerDay / noopCheck.requests * perCheck;
        const month = 30;
        const s3Usd = month * ((requestsPerDay / 1000) * PRICES.s3GetPer1000 + (noopCheck.bytesIn * requestsPerDay / noopCheck.requests / 1e9) * PRICES.s3EgressPerGB);
        rows.push({
          boards, checkEveryMin, requestsPerDay, mbPerDay: +(bytesPerDay / 1e6).toFixed(1),
          s3UsdPerMonth: +s3Usd.toFixed(2), r2UsdPerMonth: +(month * (requestsPerDay / 1e6) * PRICES.r2ClassBPerMillion).toFixed(2),
        });
      }
    }
    return {
      measured: { server: "s3rver 3.7 on 127.0.0.1 (its response headers differ from AWS's by some tens of bytes), emulated ESP32, no auth", noopCheck, update },
      rows,
      cdnNote: "behind a CDN, the version object's max-age (default 60 s) caps origin GETs at 86400/max-age = 1,440 a day per CDN cache, whatever the number of boards; release files are fetched once per cache and version (immutable)",
      prices: PRICES,
    };
  } finally {
    await s3.stop();
    await fsp.rm(src, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}
