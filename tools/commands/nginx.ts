// CLI: espruino-ota nginx
import { statSync } from "node:fs";
import { E_MISSING } from "../../modules/formats.ts";
import { fail } from "../lib/errors.ts";
import { nginxConfig, writeHtpasswd, writeNginxStandalone, BCRYPT_COST } from "../nginx.ts";
import { PASSWORD, readSecret, secretOptions } from "../lib/secret.ts";
import { UsageError, str, int, line, PORT_OPTION, LISTEN_OPTION, type Command } from "./types.ts";

export const nginxCommand: Command = {
  summary: "print an nginx server block for a release root (and write its htpasswd)",
  usage:
    "--root <dir> [--port 8080] [--listen 127.0.0.1] [--user <u> (--password-file <file> | $ESPRUINO_OTA_PASSWORD) --htpasswd <file>]\n" +
    "       [--tls-cert <pem> --tls-key <pem>] [--standalone <prefix dir>] [--worker-user <user>] [--bcrypt-cost N]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the release root nginx serves" },
    port: PORT_OPTION,
    listen: LISTEN_OPTION,
    user: { type: "string", placeholder: "<user>", help: "require HTTP Basic auth with this user and the password (an htpasswd file)", defaultText: "none: no auth" },
    ...secretOptions(PASSWORD),
    htpasswd: {
      type: "string", placeholder: "<file>",
      help: "where to write the htpasswd file (0600; run as root: 0640 for root and the worker user's group)",
      defaultText: "<prefix>/htpasswd with --standalone",
    },
    "bcrypt-cost": {
      type: "string", placeholder: "<N>",
      help: "bcrypt cost of the htpasswd entry, 4 to 31: nginx computes it on every request, each +1 doubles that work (and an attacker's)",
      default: String(BCRYPT_COST),
    },
    "tls-cert": { type: "string", placeholder: "<pem>", help: "certificate for HTTPS (with --tls-key); read by nginx's master", defaultText: "none: HTTP" },
    "tls-key": { type: "string", placeholder: "<pem>", help: "its private key; keep it 0600" },
    standalone: { type: "string", placeholder: "<dir>", help: "write a whole nginx.conf (and htpasswd) into this folder, for nginx -p <dir>", defaultText: "none: print a server block" },
    "worker-user": {
      type: "string", placeholder: "<user>",
      help: "when run as root: the unprivileged user nginx's workers run as (never root); it must read the root and the htpasswd file",
      defaultText: "www-data, else nobody",
    },
  },
  required: ["root"],
  async run(v, _p, io) {
    const root = str(v, "root")!;
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) fail(E_MISSING, `root ${root} is not a directory: give the folder \`release --root\` publishes into`);
    const user = str(v, "user");
    const password = readSecret(v, PASSWORD);
    if ((user === undefined) != (password === undefined)) {
      throw new UsageError(`give both --user and a password (--password-file or $${PASSWORD.env}), or neither`);
    }
    const cert = str(v, "tls-cert");
    const key = str(v, "tls-key");
    if ((cert === undefined) != (key === undefined)) throw new UsageError("give both --tls-cert and --tls-key, or neither");
    const opts = {
      root, port: int(v, "port"), listen: str(v, "listen"),
      user, password, htpasswdPath: str(v, "htpasswd"), tls: cert && key ? { cert, key } : undefined,
      bcryptCost: int(v, "bcrypt-cost"), workerUser: str(v, "worker-user"),
    };
    const prefix = str(v, "standalone");
    if (prefix !== undefined) {
      const r = await writeNginxStandalone({ ...opts, prefix });
      line(io, `wrote ${r.conf}${r.htpasswd ? ` and ${r.htpasswd}` : ""}; run: nginx ${r.args.join(" ")}`);
      return;
    }
    if (user !== undefined && opts.htpasswdPath === undefined) throw new UsageError("--user needs --htpasswd <file> to write the password file to");
    if (user !== undefined) await writeHtpasswd(opts.htpasswdPath!, user, password!, { cost: opts.bcryptCost, workerUser: opts.workerUser });
    io.stdout.write(nginxConfig(opts));
  },
};
