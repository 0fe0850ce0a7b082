// tools/nginx.ts: the server block, the standalone nginx.conf and htpasswd lines.
// (Running a real nginx on these files is the job of test/nginx.test.ts and
// test/nginx-policy.test.ts.)
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID } from "../modules/formats.ts";
import {
  nginxConfig, nginxStandalone, nginxLogFormat, writeHtpasswd, writeNginxStandalone,
  htpasswdLine, passwordHash, headerVar, BCRYPT_COST,
} from "../tools/nginx.ts";
import { HIDDEN_PATH } from "../tools/lib/servable.ts";
import { SERVER_TIMEOUTS } from "../tools/lib/timeouts.ts";
import { workerUser } from "../tools/lib/nginx-user.ts";
import { didNotRun } from "../harness/gate.ts";

const IS_ROOT = process.getuid?.() === 0;
// Root-only checks: skipped, loudly, elsewhere; a failure in CI, which runs as root.
function notRoot(ctx: Mocha.Context): void {
  didNotRun(ctx, `"${ctx.test?.title}"`, "it needs root (CI runs as root)", "run npm test as root");
}

function balanced(conf: string): boolean {
  let depth = 0;
  for (const line of conf.split("\n")) {
    const code = line.replace(/#.*$/, "").replace(/"[^"]*"|'[^']*'/g, "");
    for (const ch of code) {
      if (ch == "{") depth++;
      if (ch == "}" && --depth < 0) return false;
    }
  }
  return depth == 0;
}

describe("nginx config", () => {
  it("serves the root as static files on 127.0.0.1:8080 by default", () => {
    const c = nginxConfig({ root: "/srv/ota" });
    expect(c).to.match(/^server \{\n/);
    expect(c).to.include("listen 127.0.0.1:8080;");
    expect(c).to.include('root "/srv/ota";');
    expect(c).to.include("autoindex off;");
    expect(c).to.include("gzip off;");
    expect(c).to.include("try_files $uri =404;");
    expect(c).not.to.match(/^\s*user /m);
    expect(c).not.to.include("auth_basic");
    expect(c).not.to.include("ssl");
    expect(balanced(c)).to.equal(true);
  });

  it("is safe by default: no symlinks, hidden paths first, GET and HEAD only, timeouts", () => {
    const c = nginxConfig({ root: "/srv/ota" });
    expect(c).to.include("disable_symlinks on from=$document_root;");
    // the servable.ts expression, case-insensitive, before every other location
    const hidden = `location ~* "${HIDDEN_PATH}" {\n        return 404;\n    }`;
    expect(c).to.include(hidden);
    expect(c.indexOf(hidden)).to.be.lessThan(c.indexOf("location ~ \"/version$\""));
    expect(c.indexOf(hidden)).to.be.lessThan(c.indexOf("location / {"));
    expect(c).to.match(/if \(\$request_method !~ \^\(\?:GET\|HEAD\)\$\) \{\s*return 405;\s*\}/);
    const t = SERVER_TIMEOUTS;
    for (const d of [`client_header_timeout ${t.header}ms;`, `client_body_timeout ${t.body}ms;`, `send_timeout ${t.send}ms;`, `keepalive_timeout ${t.keepAlive}ms;`, "reset_timedout_connection on;"]) {
      expect(c).to.include(d);
    }
    expect(nginxConfig({ root: "/srv", timeouts: { send: 1234 } })).to.include("send_timeout 1234ms;").and.include(`client_header_timeout ${t.header}ms;`);
    expect(() => nginxConfig({ root: "/srv", timeouts: { header: 0 } })).to.throw(/timeout header/);
  });

  it("makes the root absolute and takes port, address and TLS", () => {
    const c = nginxConfig({ root: "rel/root", port: 9443, listen: "::1", tls: { cert: "/c.pem", key: "/k.pem" } });
    expect(c).to.include(`root "${path.resolve("rel/root")}";`);
    expect(c).to.include("listen [::1]:9443 ssl;");
    expect(c).to.include('ssl_certificate "/c.pem";');
    expect(c).to.include('ssl_certificate_key "/k.pem";');
  });

  it("turns on Basic auth with an htpasswd file", () => {
    const c = nginxConfig({ root: "/srv", user: "u", password: "p", htpasswdPath: "/etc/ota.htpasswd" });
    expect(c).to.match(/auth_basic "[^"]+";/);
    expect(c).to.include('auth_basic_user_file "/etc/ota.htpasswd";');
    expect(() => nginxConfig({ root: "/srv", user: "u", password: "p" })).to.throw(/htpasswdPath/);
    expect(() => nginxConfig({ root: "/srv", user: "u", htpasswdPath: "/x" })).to.throw(/both/);
  });

  it("refuses what nginx.conf cannot quote, and bad ports", () => {
    expect(() => nginxConfig({ root: "/srv/$evil" })).to.throw(/cannot quote/);
    expect(() => nginxConfig({ root: '/srv/"x' })).to.throw(/cannot quote/);
    expect(() => nginxConfig({ root: "/srv", port: 70000 })).to.throw(/port/);
  });

  it("logs the identity headers of formats.ts", () => {
    expect(headerVar("X-Ota-Id")).to.equal("$http_x_ota_id");
    const f = nginxLogFormat();
    for (const h of [H_VERSION, H_BOARD, H_FIRMWARE, H_ID]) expect(f).to.include(headerVar(h));
    expect(nginxConfig({ root: "/srv", accessLog: "/l/a.log" })).to.include('access_log "/l/a.log" espruino_ota;');
  });

  it("wraps the server block in a standalone nginx.conf inside a prefix directory", () => {
    const c = nginxStandalone({ prefix: "/tmp/ngx", root: "/srv", port: 18080, workerUser: "nobody" });
    expect(c).to.include("daemon off;");
    // as root the workers run as the worker user; as anyone else, as that user
    if (IS_ROOT) expect(c).to.match(/^user nobody \S+;$/m);
    else expect(c).not.to.match(/^user /m);
    expect(c).not.to.match(/^user root/m);
    expect(c).to.include('pid "/tmp/ngx/nginx.pid";');
    expect(c).to.include('error_log "/tmp/ngx/error.log"');
    for (const m of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) expect(c).to.include(`${m}_temp_path "/tmp/ngx/tmp/${m}";`);
    expect(c).to.include('access_log "/tmp/ngx/access.log" espruino_ota;');
    expect(c.indexOf("log_format espruino_ota")).to.be.lessThan(c.indexOf("access_log"));
    expect(c).to.include("listen 127.0.0.1:18080;");
    expect(c).to.match(/http \{[\s\S]*server \{[\s\S]*\}\s*\}\s*$/);
    expect(c).not.to.match(/\/(etc|var)\//);
    expect(balanced(c)).to.equal(true);
    expect(nginxStandalone({ prefix: "/tmp/ngx", root: "/srv", daemon: true, tempModules: ["client_body"] }))
      .to.include("daemon on;").and.not.include("uwsgi");
  });

  it("writes the standalone files", async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-nginx-"));
    try {
      const root = path.join(dir, "root");
      await fsp.mkdir(root, { mode: 0o755 });
      const r = await writeNginxStandalone({ prefix: dir, root, port: 18081, user: "dev", password: "pw" });
      expect(r.htpasswd).to.equal(path.join(dir, "htpasswd"));
      expect(r.args).to.deep.equal(["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")]);
      const conf = await fsp.readFile(r.conf, "utf8");
      expect(conf).to.include(`auth_basic_user_file "${r.htpasswd}";`);
      expect((await fsp.stat(path.join(dir, "tmp"))).isDirectory()).to.equal(true);
      const line = (await fsp.readFile(r.htpasswd!, "utf8")).trim();
      expect(line).to.match(/^dev:\$2b\$05\$/);
      expect(bcrypt.compareSync("pw", line.slice(4))).to.equal(true);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  describe("worker user", () => {
    it("is www-data or nobody by default, and never root", () => {
      expect(workerUser().name).to.be.oneOf(["www-data", "nobody"]);
      expect(workerUser().uid).to.not.equal(0);
      expect(() => workerUser("root")).to.throw(/root/).with.property("code", "EOPTS");
      expect(() => workerUser("no-such-user-here")).to.throw(/does not exist/);
    });

    it("as root, refuses a root the workers cannot read, before nginx would answer 403", async function () {
      if (!IS_ROOT) return notRoot(this); // not root: nginx runs its workers as this user, who can read it
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-nginx-"));
      const root = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-root-")); // 0700
      try {
        await fsp.writeFile(path.join(root, "x"), "x");
        await writeNginxStandalone({ prefix: dir, root, port: 18082 }).then(
          () => { throw new Error("accepted"); },
          (e) => expect(e.message).to.match(/cannot read the release root/).and.include(workerUser().name),
        );
        await fsp.chmod(root, 0o755);
        const r = await writeNginxStandalone({ prefix: dir, root, port: 18082, user: "dev", password: "pw" });
        expect((await fsp.stat(dir)).mode & 0o777).to.equal(0o711); // the workers pass through to the htpasswd
        const st = await fsp.stat(r.htpasswd!);
        expect(st.mode & 0o777).to.equal(0o640);
        expect([st.uid, st.gid]).to.deep.equal([0, workerUser().gid]);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
        await fsp.rm(root, { recursive: true, force: true });
      }
    });
  });

  describe("htpasswd", () => {
    it("writes bcrypt ($2b$, cost 5 by default) with a fresh salt", () => {
      expect(BCRYPT_COST).to.equal(5);
      const h = passwordHash("pa:ss wörd");
      expect(h).to.match(/^\$2b\$05\$[./A-Za-z0-9]{53}$/);
      expect(bcrypt.compareSync("pa:ss wörd", h)).to.equal(true);
      expect(bcrypt.compareSync("pa:ss word", h)).to.equal(false);
      expect(passwordHash("pa:ss wörd")).not.to.equal(h);
      expect(passwordHash("x", 4)).to.match(/^\$2b\$04\$/);
    });

    it("refuses an empty password, one bcrypt would cut, a NUL and bad costs", () => {
      expect(() => passwordHash("")).to.throw(/empty/).with.property("code", "EOPTS");
      expect(() => passwordHash("é".repeat(37))).to.throw(/74 bytes/);
      expect(passwordHash("a".repeat(72))).to.match(/^\$2b\$/);
      expect(() => passwordHash("a\0b")).to.throw(/NUL/);
      for (const c of [3, 32, 5.5]) expect(() => passwordHash("x", c)).to.throw(/cost/);
    });

    it("writes one user per file, refusing names htpasswd cannot hold", async () => {
      expect(htpasswdLine("u", "p")).to.match(/^u:\$2b\$05\$/);
      expect(() => htpasswdLine("a:b", "p")).to.throw(/':'/);
      expect(() => htpasswdLine("", "p")).to.throw(/empty/);
    });

    it("is written for its owner only (0600), replacing an older readable file; as root 0640 for the workers' group", async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-htpasswd-"));
      const file = path.join(dir, "htpasswd");
      try {
        if (IS_ROOT) {
          // the workers could not reach a file in a 0700 folder: refused before it is written
          await writeHtpasswd(file, "dev", "pw", { cost: 4 }).then(
            () => { throw new Error("accepted"); },
            (e) => expect(e.message).to.match(/cannot reach the htpasswd file/),
          );
          expect(await fsp.stat(file).catch(() => "none")).to.equal("none");
          await fsp.chmod(dir, 0o711);
        }
        await fsp.writeFile(file, "old\n", { mode: 0o666 });
        await fsp.chmod(file, 0o666);
        await writeHtpasswd(file, "dev", "pw", { cost: 4 });
        const st = await fsp.stat(file);
        expect(st.mode & 0o777).to.equal(IS_ROOT ? 0o640 : 0o600);
        if (IS_ROOT) expect(st.gid).to.equal(workerUser().gid);
        const line = (await fsp.readFile(file, "utf8"));
        expect(line).to.match(/^dev:\$2b\$04\$[^\n]+\n$/);
        expect(bcrypt.compareSync("pw", line.trim().slice(4))).to.equal(true);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    });
  });
});
