// tools/nginx.ts: the server block, the standalone nginx.conf and htpasswd lines.
// (Running a real nginx on these files is the nginx integration test's job.)
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID } from "../modules/formats.ts";
import {
  nginxConfig, nginxStandalone, nginxLogFormat, writeHtpasswd, writeNginxStandalone,
  htpasswdLine, passwordHash, apr1, headerVar,
} from "../tools/nginx.ts";

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
    expect(c).to.match(/location ~ "\/\\\.ota-tmp-" \{\s*return 404;/);
    expect(c).not.to.include("auth_basic");
    expect(c).not.to.include("ssl");
    expect(balanced(c)).to.equal(true);
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
    const c = nginxStandalone({ prefix: "/tmp/ngx", root: "/srv", port: 18080, runAs: "nobody" });
    expect(c).to.include("daemon off;");
    expect(c).to.include("user nobody;");
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
      const r = await writeNginxStandalone({ prefix: dir, root: dir, port: 18081, user: "dev", password: "pw" });
      expect(r.htpasswd).to.equal(path.join(dir, "htpasswd"));
      expect(r.args).to.deep.equal(["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")]);
      const conf = await fsp.readFile(r.conf, "utf8");
      expect(conf).to.include(`auth_basic_user_file "${r.htpasswd}";`);
      expect((await fsp.stat(path.join(dir, "tmp"))).isDirectory()).to.equal(true);
      const line = (await fsp.readFile(r.htpasswd!, "utf8")).trim();
      const m = /^dev:\$apr1\$([^$]+)\$/.exec(line);
      expect(m).to.not.equal(null);
      expect(line).to.equal("dev:" + apr1("pw", m![1]));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  describe("htpasswd", () => {
    it("hashes apr1 like Apache's htpasswd and openssl passwd -apr1", () => {
      // Vectors from `openssl passwd -apr1 -salt <salt> <password>`.
      expect(apr1("pa ss", "abcdefgh")).to.equal("$apr1$abcdefgh$OsjPgQUWMAtMNmB0bA7mk.");
      expect(apr1("", "xy")).to.equal("$apr1$xy$43..WIhbfuznGvwoCyUek/");
      expect(apr1("a-very-long-password-longer-than-16", "s")).to.equal("$apr1$s$aRVve0qC4IvsMNC2h7Ab81");
      expect(apr1("x")).to.match(/^\$apr1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}$/);
    });

    it("also writes {SHA} and {SSHA}", () => {
      expect(passwordHash("secret", "SHA")).to.equal("{SHA}" + createHash("sha1").update("secret").digest("base64"));
      const ssha = Buffer.from(passwordHash("secret", "SSHA").slice(6), "base64");
      const salt = ssha.subarray(20);
      expect(ssha.subarray(0, 20)).to.deep.equal(createHash("sha1").update("secret").update(salt).digest());
    });

    it("writes one user per file, refusing names htpasswd cannot hold", async () => {
      expect(htpasswdLine("u", "p", "SHA")).to.equal("u:{SHA}" + createHash("sha1").update("p").digest("base64"));
      expect(() => htpasswdLine("a:b", "p")).to.throw(/':'/);
      const file = path.join(os.tmpdir(), `ota-htpasswd-${process.pid}`);
      try {
        await writeHtpasswd(file, "dev", "pw", "SHA");
        expect(await fsp.readFile(file, "utf8")).to.equal(htpasswdLine("dev", "pw", "SHA") + "\n");
      } finally {
        await fsp.rm(file, { force: true });
      }
    });
  });
});
