// CLI: espruino-ota nginx
import { nginxConfig, writeHtpasswd, writeNginxStandalone } from "../nginx.ts";
import { UsageError, str, int, line, type Command } from "./types.ts";

export const nginxCommand: Command = {
  summary: "print an nginx server block for a release root (and write its htpasswd)",
  usage:
    "--root <dir> [--port 8080] [--listen 127.0.0.1] [--user <u> --password <p> --htpasswd <file>]\n" +
    "       [--tls-cert <pem> --tls-key <pem>] [--standalone <prefix dir>]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root for nginx to serve (where release publishes)" },
    port: { type: "string", placeholder: "<n>", help: "the port nginx listens on", defaultText: "8080" },
    listen: { type: "string", placeholder: "<address>", help: "the address nginx listens on", defaultText: "127.0.0.1" },
    user: { type: "string", placeholder: "<u>", help: "require HTTP Basic auth with this user (with --password and --htpasswd)" },
    password: { type: "string", placeholder: "<p>", help: "the Basic auth password (with --user)" },
    htpasswd: { type: "string", placeholder: "<file>", help: "where to write the password file the config names" },
    "tls-cert": { type: "string", placeholder: "<pem>", help: "certificate for HTTPS (with --tls-key)" },
    "tls-key": { type: "string", placeholder: "<pem>", help: "private key for HTTPS (with --tls-cert)" },
    standalone: { type: "string", placeholder: "<dir>", help: "write a whole nginx.conf (and htpasswd) into this prefix folder instead of printing a server block" },
  },
  required: ["root"],
  async run(v, _p, io) {
    const user = str(v, "user");
    const password = str(v, "password");
    if ((user === undefined) != (password === undefined)) throw new UsageError("give both --user and --password, or neither");
    const cert = str(v, "tls-cert");
    const key = str(v, "tls-key");
    if ((cert === undefined) != (key === undefined)) throw new UsageError("give both --tls-cert and --tls-key, or neither");
    const opts = {
      root: str(v, "root")!, port: int(v, "port"), listen: str(v, "listen"),
      user, password, htpasswdPath: str(v, "htpasswd"), tls: cert && key ? { cert, key } : undefined,
    };
    const prefix = str(v, "standalone");
    if (prefix !== undefined) {
      const r = await writeNginxStandalone({ ...opts, prefix });
      line(io, `wrote ${r.conf}${r.htpasswd ? ` and ${r.htpasswd}` : ""}; run: nginx ${r.args.join(" ")}`);
      return;
    }
    if (user !== undefined && opts.htpasswdPath === undefined) throw new UsageError("--user needs --htpasswd <file> to write the password file to");
    if (user !== undefined) await writeHtpasswd(opts.htpasswdPath!, user, password!);
    io.stdout.write(nginxConfig(opts));
  },
};
