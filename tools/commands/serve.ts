// CLI: espruino-ota serve
import { serve } from "../serve.ts";
import { PASSWORD, readSecret, secretOptions } from "../lib/secret.ts";
import { UsageError, str, int, line, PORT_OPTION, LISTEN_OPTION, type Command } from "./types.ts";

export const serveCommand: Command = {
  summary: "serve a release root over HTTP(S) for development, logging device checks",
  usage: "--root <dir> [--port 8080] [--host 127.0.0.1] [--user <u> (--password-file <file> | $ESPRUINO_OTA_PASSWORD)] [--tls]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the release root to serve (what `release` writes)" },
    port: PORT_OPTION,
    host: LISTEN_OPTION,
    user: { type: "string", placeholder: "<user>", help: "require HTTP Basic auth with this user and the password", defaultText: "none: no auth" },
    ...secretOptions(PASSWORD),
    tls: {
      type: "boolean", default: false,
      help: "HTTPS with a self-signed certificate, made once and kept in a private folder: $XDG_CACHE_HOME/espruino-ota/tls or ~/.cache/espruino-ota/tls",
    },
  },
  required: ["root"],
  async run(v, _p, io) {
    const user = str(v, "user");
    const password = readSecret(v, PASSWORD);
    if ((user === undefined) != (password === undefined)) {
      throw new UsageError(`give both --user and a password (--password-file or $${PASSWORD.env}), or neither`);
    }
    const s = await serve({
      root: str(v, "root")!, port: int(v, "port"), host: str(v, "host"),
      user, password, tls: !!v.tls,
      log: (e) => line(io, e.line),
    });
    line(io, `serving ${str(v, "root")} at ${s.url}${v.tls ? " (self-signed certificate)" : ""}; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await s.close();
  },
};
