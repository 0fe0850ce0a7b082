// What a server of releases refuses, asked of the dev server (tools/serve.ts) and of the
// real nginx on exactly the config `espruino-ota nginx --standalone` writes, with the same
// root and the same questions, so the two cannot drift (one definition:
// tools/lib/servable.ts, tools/lib/timeouts.ts). Real sockets on 127.0.0.1 only.
//   - paths: dotfiles and dot folders (.git/, .htpasswd), release's temporary names, while
//     a release's own files that start with a dot are served in both layouts;
//   - no symlink below the root, in or out of it;
//   - regular files only: a fifo does not hang the server, a socket or device is refused;
//   - GET and HEAD only;
//   - timeouts: a request head that never ends, a silent connection, an idle kept-alive
//     one, and a client that stops reading a large file lose their socket (and the file);
//   - nginx's workers never run as root, and the htpasswd schemes Debian's nginx checks.
// Linux only (fifos, /proc/net/tcp); a device file needs root (CI runs as root).
import { expect } from "chai";
import { promises as fsp, readFileSync, readdirSync, readlinkSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { release } from "../tools/release.ts";
import { serve, type ServeHandle } from "../tools/serve.ts";
import { startNginx, requireNginx, type RunningNginx } from "../harness/nginx.ts";
import { requireTool, NGINX_TOOL } from "../harness/external.ts";
import type { ServerTimeouts } from "../tools/lib/timeouts.ts";

const SECRET = "TOP-SECRET";
const IS_ROOT = process.getuid?.() === 0;
const BIG = 64 << 20; // sparse: more than loopback's socket buffers hold, so a non-reader blocks the server
// Short, so the timeout tests take under a second each.
const TIMEOUTS: ServerTimeouts = { header: 300, body: 300, send: 500, keepAlive: 300 };

interface Reply {
  status: number;
  body: string;
}

function request(port: number, p: string, method = "GET", headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, method, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c) => (body += c.length > 1000 ? c.slice(0, 1000) : c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${method} ${p} within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

// TCP connections of this machine to or from `port`, apart from the listener and closed
// ones waiting out TIME_WAIT (Linux).
function connectionsOn(port: number): number {
  const hex = ":" + port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(f)) continue;
    for (const l of readFileSync(f, "utf8").split("\n").slice(1)) {
      const [, local, remote, state] = l.trim().split(/\s+/);
      if (state && state != "0A" && state != "06" && (local.endsWith(hex) || remote.endsWith(hex))) n++;
    }
  }
  return n;
}

// Open file descriptors of this process that point at `file`.
function fdsOn(file: string): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) == file;
    } catch {
      return false;
    }
  }).length;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A raw connection that sends `data` and records when the server closes it.
function rawClient(port: number, data: string, read = true): { socket: net.Socket; closed: Promise<string> } {
  const socket = net.connect(port, "127.0.0.1");
  let got = "";
  const closed = new Promise<string>((resolve) => {
    socket.on("data", (c) => (got += c.toString("latin1")));
    socket.on("error", () => {}); // a reset is a close too
    socket.on("close", () => resolve(got));
  });
  socket.on("connect", () => {
    if (data) socket.write(data);
    if (!read) socket.pause();
  });
  return { socket, closed };
}

describe("server policy: the dev server and the real nginx refuse the same", function () {
  this.timeout(60000);
  let root: string;
  let outside: string;
  let sock: net.Server;
  const served: Record<string, string> = {};
  const hidden: string[] = [];

  before(async function () {
    requireTool(this, NGINX_TOOL);
    if (process.platform != "linux") throw new Error("these tests need Linux (fifos, /proc/net/tcp)");
    if (!IS_ROOT) {
      const msg = "not root: the device-file case (mknod) and nginx's worker-user checks cannot run";
      if (process.env.CI) throw new Error(msg);
      console.warn(`\n  !!! ${msg} !!!\n`);
    }
    requireNginx();
    root = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-policy-root-"));
    outside = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-policy-out-"));
    await fsp.chmod(outside, 0o755); // nginx's workers could read it: only the policy stops them
    await fsp.writeFile(path.join(outside, "secret.txt"), SECRET);
    const src = path.join(outside, "src");
    await fsp.mkdir(src);
    await fsp.writeFile(path.join(src, "boot.js"), "print('boot')");
    await fsp.writeFile(path.join(src, "main.js"), "exports.main=1");
    const files = [{ name: ".bootcde", path: path.join(src, "boot.js") }, { name: "main", path: path.join(src, "main.js") }];
    await release({ root, project: "p", version: "1.0", files });
    await release({ root, project: "p", version: "1.1", layout: "subdir", files });
    served["/p/version"] = "1.1";
    served["/p/1.0_.bootcde"] = served["/p/1.1/.bootcde"] = "print('boot')";
    served["/p/1.0_main"] = served["/p/1.1/main"] = "exports.main=1";
    served["/p/1.0_manifest.txt"] = await fsp.readFile(path.join(root, "p", "1.0_manifest.txt"), "latin1");
    served["/p/1.1/manifest.txt"] = await fsp.readFile(path.join(root, "p", "1.1", "manifest.txt"), "latin1");

    const plant = async (rel: string) => {
      await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fsp.writeFile(path.join(root, rel), SECRET);
      hidden.push("/" + rel);
    };
    for (const rel of [
      ".htpasswd", ".git/config", ".git/HEAD", "p/.htpasswd", "p/.env", "p/.GIT/config",
      "p/1.1/.htaccess", "p/1.1/.git", "p/1.1/.HTPASSWD",
      "p/.ota-tmp-1-abcdef-1.2_main", "p/1.1/.ota-tmp-1-abcdef-main", "p/.ota-tmp-1-abcdef-version", "p/.ota-tmp-2-dir/main",
    ]) await plant(rel);
    hidden.push("/%2egit/config", "/p/1.1/%2Ehtaccess");

    // symlinks: out of the root, to a file inside it, and a folder out of it
    await fsp.symlink(path.join(outside, "secret.txt"), path.join(root, "p", "1.0_out"));
    await fsp.symlink("1.0_main", path.join(root, "p", "1.0_in"));
    await fsp.symlink(outside, path.join(root, "p", "linked"));
    hidden.push("/p/1.0_out", "/p/1.0_in", "/p/linked/secret.txt");

    // not regular files
    execFileSync("mkfifo", [path.join(root, "p", "1.0_fifo")]);
    sock = net.createServer();
    await new Promise<void>((r) => sock.listen(path.join(root, "p", "1.0_sock"), r));
    hidden.push("/p/1.0_fifo", "/p/1.0_sock");
    if (IS_ROOT) {
      execFileSync("mknod", [path.join(root, "p", "1.0_dev"), "c", "1", "5"]); // /dev/zero: endless
      hidden.push("/p/1.0_dev");
    }
    // directories are not files either
    hidden.push("/", "/p", "/p/", "/p/1.1", "/p/1.1/");

    const fh = await fsp.open(path.join(root, "p", "1.0_big"), "w");
    await fh.truncate(BIG);
    await fh.close();
  });

  after(async () => {
    sock?.close();
    if (root) await fsp.rm(root, { recursive: true, force: true }); // unset when it did not run
    if (outside) await fsp.rm(outside, { recursive: true, force: true });
  });

  interface Target {
    port: number;
    stop(): Promise<void>;
    ended(p: string): boolean; // the server is done with a request for `p`
  }

  const targets: Record<string, () => Promise<Target>> = {
    "dev server": async () => {
      const s: ServeHandle = await serve({ root, timeouts: TIMEOUTS, log: () => {} });
      return { port: s.port, stop: () => s.close(), ended: (p) => fdsOn(path.join(root, ...p.split("/"))) == 0 };
    },
    nginx: async () => {
      const n: RunningNginx = await startNginx({ root, timeouts: TIMEOUTS });
      return {
        port: n.port,
        stop: async () => {
          await n.stop();
          // nginx logs what it refused to open at "crit"; anything else there is a fault
          const refused = /Too many levels of symbolic links|is not a regular file|No such device or address/;
          const errors = n.errorLog().split("\n").filter((l) => /\[(emerg|alert|crit)\]/.test(l) && !refused.test(l));
          expect(errors, "nginx error log").to.deep.equal([]);
        },
        ended: (p) => n.accessLog().includes(`"GET ${p} HTTP/1.1" 200 `),
      };
    },
  };

  for (const [name, start] of Object.entries(targets)) {
    describe(name, () => {
      let t: Target;
      before(async () => (t = await start()));
      after(() => t?.stop());

      it("serves a release's files in both layouts, those starting with a dot included", async () => {
        for (const [p, body] of Object.entries(served)) {
          const r = await request(t.port, p);
          expect(r, p).to.deep.equal({ status: 200, body });
        }
      });

      it("refuses dotfiles, dot folders, temporary names, symlinks, fifos, sockets, devices and folders with a 404", async () => {
        for (const p of hidden) {
          const r = await request(t.port, p);
          expect(r.status, p).to.equal(404);
          expect(r.body, p).not.to.include(SECRET);
        }
      });

      it("is not hung by a fifo: requests for it are answered while no one writes it", async () => {
        // more requests than libuv has pool threads, all at once
        const fifo = await Promise.all(Array.from({ length: 6 }, () => request(t.port, "/p/1.0_fifo")));
        expect(fifo.map((r) => r.status)).to.deep.equal([404, 404, 404, 404, 404, 404]);
        expect(await request(t.port, "/p/version")).to.deep.equal({ status: 200, body: "1.1" });
      });

      it("allows GET and HEAD only", async () => {
        expect(await request(t.port, "/p/version", "HEAD")).to.deep.equal({ status: 200, body: "" });
        for (const m of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
          const r = await request(t.port, "/p/version", m);
          expect(r.status, m).to.equal(405);
          expect(r.body, m).not.to.include("1.1");
        }
      });

      it("drops a request head that never ends, and a connection that sends nothing", async () => {
        const partial = rawClient(t.port, "GET /p/version HTTP/1.1\r\nHost: x\r\n");
        const silent = rawClient(t.port, "");
        for (const c of [partial, silent]) {
          const got = await Promise.race([c.closed, new Promise<string>((r) => setTimeout(() => r("still open"), 5000))]);
          expect(got).not.to.equal("still open");
          expect(got).not.to.match(/\r\n\r\n1\.1$/); // no answer from the version file
        }
      });

      it("closes an idle kept-alive connection", async () => {
        const c = rawClient(t.port, "GET /p/version HTTP/1.1\r\nHost: x\r\n\r\n");
        const got = await Promise.race([c.closed, new Promise<string>((r) => setTimeout(() => r("still open"), 5000))]);
        expect(got).to.match(/^HTTP\/1\.1 200 /).and.match(/\r\n\r\n1\.1$/);
      });

      it("drops a client that stops reading a large file: its socket and the open file are released", async () => {
        const p = "/p/1.0_big";
        const c = rawClient(t.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`, false);
        await new Promise<void>((r) => c.socket.once("connect", () => r()));
        await until("the server gives up on the client", () => t.ended(p) && connectionsOn(t.port) == 0);
        c.socket.destroy();
      });
    });
  }

  describe("nginx only", () => {
    it("never runs its workers as root", async function () {
      if (!IS_ROOT) this.skip(); // said loudly in before(); as another user, workers run as that user anyway
      const n = await startNginx({ root });
      try {
        expect(readFileSync(n.conf, "utf8")).to.match(/^user (?!root)\S+ \S+;$/m);
        // from /proc: the master started with this config, and the uids of its children
        const procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
        const read = (pid: string, f: string) => {
          try {
            return readFileSync(`/proc/${pid}/${f}`, "utf8");
          } catch {
            return ""; // gone meanwhile
          }
        };
        const master = procs.find((pid) => read(pid, "cmdline").startsWith("nginx: master process") && read(pid, "cmdline").includes(n.conf));
        expect(master, "nginx master process").to.be.a("string");
        const workers = procs.filter((pid) => read(pid, "stat").replace(/^.*\) /s, "").split(" ")[1] == master);
        expect(workers.length).to.be.greaterThan(0);
        for (const pid of workers) {
          const uid = /^Uid:\s+(\d+)/m.exec(read(pid, "status"))![1];
          expect(read(pid, "cmdline")).to.match(/^nginx: worker process/);
          expect(uid, `worker ${pid}`).to.not.equal("0");
        }
      } finally {
        await n.stop();
      }
    });

    it("checks the bcrypt entries espruino-ota writes, and which other schemes Debian's nginx checks", async () => {
      const PW = "s3cret:with-colon";
      const n = await startNginx({ root, user: "fleet", password: PW });
      const basic = (u: string, p: string) => ({ Authorization: "Basic " + Buffer.from(`${u}:${p}`).toString("base64") });
      try {
        const file = path.join(n.prefix, "htpasswd");
        const ours = readFileSync(file, "utf8");
        expect(ours).to.match(/^fleet:\$2b\$05\$[./A-Za-z0-9]{53}\n$/);
        // nginx reads the file at every request: more users, each hashed another way
        // (the vectors are `openssl passwd -6/-5/-apr1/-1 -salt … 's3cret:with-colon'`)
        const others: Record<string, string> = {
          bcrypt2y: bcrypt.hashSync(PW, 5).replace("$2b$", "$2y$"), // as Apache's htpasswd -B writes it
          sha512: "$6$espruinoota$o1b0cFVcj0dgLvDqJJZkrUfKGnLUZ/prvmTGU4BfunQumFSFqji1AotQGXf1uotbkJhQqhiCE.aaipECXrlR0.",
          sha256: "$5$espruinoota$QpT7ZaiX6cnMNx50UWobqDCBcPHoW3KTw0TN4VGN2k9",
          apr1: "$apr1$espruino$tXZNrPYpQighY/p4.ENa5/",
          md5: "$1$espruino$FNq862X07GYmmTPO4Hmlh0",
          unknown: "$9$espruino$FNq862X07GYmmTPO4Hmlh0",
        };
        await fsp.appendFile(file, Object.entries(others).map(([u, h]) => `${u}:${h}\n`).join(""));
        const status = async (u: string, p: string) => (await request(n.port, "/p/version", "GET", basic(u, p))).status;
        const checked: Record<string, [number, number]> = {};
        for (const u of ["fleet", ...Object.keys(others)]) checked[u] = [await status(u, PW), await status(u, "wrong")];
        expect(checked).to.deep.equal({
          fleet: [200, 401], bcrypt2y: [200, 401], sha512: [200, 401], sha256: [200, 401], apr1: [200, 401], md5: [200, 401],
          unknown: [401, 401], // a scheme libcrypt does not know locks everyone out, silently
        });
        expect(await status("fleet", "")).to.equal(401);
      } finally {
        await n.stop();
      }
    });
  });
});
