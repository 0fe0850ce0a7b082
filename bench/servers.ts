// Loopback servers for the bench: the dev server (tools/serve.ts) and a real nginx run
// from tools/nginx.ts's standalone config. Everything listens on 127.0.0.1 only.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeNginxStandalone } from "../tools/nginx.ts";

export async function freePort(): Promise<number> {
  return new Promise((ok, no) => {
    const s = createServer();
    s.once("error", no);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const c = connect(port, "127.0.0.1");
    c.once("connect", () => { c.destroy(); ok(true); });
    c.once("error", () => ok(false));
  });
}

export function nginxAvailable(): boolean {
  return spawnSync("nginx", ["-v"], { stdio: "ignore" }).status === 0;
}

export interface Nginx { url: string; port: number; stop(): Promise<void> }

export async function startNginx(root: string, user: string, password: string): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), "ota-bench-nginx-"));
  const port = await freePort();
  const f = await writeNginxStandalone({ prefix, root, port, user, password });
  const child: ChildProcess = spawn("nginx", f.args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      let log = "";
      try { log = readFileSync(join(prefix, "error.log"), "utf8"); } catch { /* none */ }
      throw new Error(`nginx did not start: ${stderr}${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null) return ok();
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      child.once("exit", () => { clearTimeout(t); ok(); });
      child.kill("SIGTERM");
    });
  process.once("exit", () => { if (child.exitCode === null) child.kill("SIGKILL"); });
  return { url: `http://127.0.0.1:${port}`, port, stop };
}
