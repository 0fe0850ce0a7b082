// Runs the real nginx binary on a free loopback port with exactly the standalone config
// that `espruino-ota nginx --standalone <prefix>` writes (writeNginxStandalone), in the
// foreground (`daemon off`), its error log inside the prefix directory. Used by the
// nginx tests and the bench.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, chmodSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeNginxStandalone, type NginxStandaloneOptions } from "../tools/nginx.ts";

export const NGINX = process.env.NGINX ?? "nginx";

/** Whether an nginx binary runs here. */
export function nginxAvailable(): boolean {
  return spawnSync(NGINX, ["-v"], { stdio: "ignore" }).status === 0;
}

/** Fails (never skips) when there is no nginx: the nginx tests are part of `npm test`. */
export function requireNginx(): string {
  const r = spawnSync(NGINX, ["-v"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      `nginx is not installed (running "${NGINX} -v" failed: ${r.error?.message ?? r.stderr}). ` +
        `The nginx integration tests need Debian's nginx: run .ci/run, or apt-get install nginx.`,
    );
  }
  return (r.stderr || r.stdout).trim();
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const c = connect({ host: "127.0.0.1", port });
    c.once("connect", () => (c.destroy(), ok(true)));
    c.once("error", () => ok(false));
  });
}

export interface RunningNginx {
  url: string;
  port: number;
  prefix: string;
  conf: string;
  errorLog(): string;
  accessLog(): string;
  stop(): Promise<void>;
}

export async function startNginx(opts: Omit<NginxStandaloneOptions, "prefix" | "port" | "listen"> & { prefix?: string }): Promise<RunningNginx> {
  requireNginx();
  const prefix = opts.prefix ?? mkdtempSync(join(tmpdir(), "ota-nginx-"));
  const port = await freePort();
  // Test roots come from mkdtemp (0700); run as root, nginx's workers are unprivileged.
  if (process.getuid?.() === 0) chmodSync(opts.root, 0o755);
  const files = await writeNginxStandalone({ ...opts, prefix, port, listen: "127.0.0.1" });
  const child: ChildProcess = spawn(NGINX, files.args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  let exited: number | null | undefined;
  const gone = new Promise<void>((ok) => child.once("exit", (code) => ((exited = code), ok())));
  const errorLog = () => (existsSync(join(prefix, "error.log")) ? readFileSync(join(prefix, "error.log"), "utf8") : "");
  const deadline = Date.now() + 10000;
  while (!(await canConnect(port))) {
    if (exited !== undefined || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nginx did not start on 127.0.0.1:${port} (exit ${exited}): ${out}\n${errorLog()}\nconfig ${files.conf}:\n${readFileSync(files.conf, "utf8")}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    prefix,
    conf: files.conf,
    errorLog,
    accessLog: () => (existsSync(join(prefix, "access.log")) ? readFileSync(join(prefix, "access.log"), "utf8") : ""),
    async stop() {
      if (exited !== undefined) return;
      child.kill("SIGQUIT"); // graceful: workers finish, then the master exits
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}
