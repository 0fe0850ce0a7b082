// CLI: espruino-ota serve
import { serve } from "../serve.ts";
import { UsageError, str, int, line, type Command } from "./types.ts";

export const serveCommand: Command = {
  summary: "serve a release root over HTTP(S) for development, logging device checks",
  usage: "--root <dir> [--port N] [--host 127.0.0.1] [--user <u> --password <p>] [--tls]",
  options: {
    root: { type: "string", placeholder: "<dir>", help: "the server root to serve (where release publishes)" },
    port: { type: "string", placeholder: "<n>", help: "TCP port to listen on (0: any free port)", defaultText: "8080" },
    host: { type: "string", placeholder: "<address>", help: "address to listen on (0.0.0.0: every interface, for real boards)", defaultText: "127.0.0.1" },
    user: { type: "string", placeholder: "<u>", help: "require HTTP Basic auth with this user (with --password)" },
    password: { type: "string", placeholder: "<p>", help: "the Basic auth password (with --user)" },
    tls: { type: "boolean", help: "serve HTTPS with a self-signed certificate" },
  },
  required: ["root"],
  async run(v, _p, io) {
    if ((str(v, "user") === undefined) != (str(v, "password") === undefined)) throw new UsageError("give both --user and --password, or neither");
    const s = await serve({
      root: str(v, "root")!, port: int(v, "port") ?? 8080, host: str(v, "host"),
      user: str(v, "user"), password: str(v, "password"), tls: !!v.tls,
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
