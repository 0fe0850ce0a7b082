// CLI: espruino-ota flash
import { UsageError, str, int, line, progress, type Command } from "./types.ts";
import { WIFI, readSecret, secretOptions } from "../lib/secret.ts";

export const flashCommand: Command = {
  summary: "put the ota module, the boot stage, an app and Wi-Fi/update settings on a board running Espruino",
  usage: "--board <board> (--port <port> | --dry-run <out.js>) [options] [app.js]",
  options: {
    board: { type: "string", placeholder: "<board>", help: "ESP32, ESP8266_4MB, ESP8266_BOARD, LINUX, or the path of a board JSON file" },
    port: { type: "string", short: "p", placeholder: "<port>", help: "the board's serial port (/dev/ttyUSB0, COM3) or telnet console (tcp://host[:port], port 23 by default)" },
    baud: { type: "string", short: "b", placeholder: "<n>", help: "serial baud rate", defaultText: "the board JSON's, 115200 for ESP boards" },
    ...secretOptions(WIFI), // --wifi <ssid:password> (the password may hold ':'), stored as wifi.json
    host: { type: "string", placeholder: "<url>", help: "the OTA server (http://… or https://…) for ota.json, with --project" },
    project: { type: "string", placeholder: "<name>", help: "the project folder on the server, for ota.json, with --host" },
    files: { type: "string", placeholder: "<names>", help: "comma-separated Storage names of a release, for ota.json", defaultText: "the app's Storage name" },
    name: { type: "string", placeholder: "<name>", help: "Storage name of the app", default: ".bootcde" },
    storage: { type: "string", multiple: true, placeholder: "<name=path>", help: "one more Storage file" },
    version: { type: "string", placeholder: "<v>", help: "record the flashed app as this installed release" },
    text: { type: "boolean", help: "store the module and the boot stage as text (ota.min.js, boot.min.js) instead of pretokenised (ota.tok, boot.tok): for a firmware whose token table is not 2v29's" },
    "no-reset": { type: "boolean", help: "stay at the prompt instead of rebooting into the app" },
    "dry-run": { type: "string", placeholder: "<out.js>", help: "write the upload script to this file instead of sending it (no --port needed)" },
    timeout: { type: "string", placeholder: "<s>", help: "seconds before giving up on the board", defaultText: "30 + 0.3 per script line" },
    verbose: { type: "boolean", help: "show every line of the espruino CLI on stderr" },
  },
  required: ["board"],
  positionals: true,
  async run(v, p, io) {
    if (p.length > 1) throw new UsageError(`one app file at most, got ${p.join(" ")}`);
    const dryRun = str(v, "dry-run");
    if (!dryRun && !str(v, "port")) throw new UsageError("missing --port (or --dry-run out.js to only write the upload script)");
    const storage: Record<string, string> = {};
    for (const s of (v.storage as string[] | undefined) ?? []) {
      const i = s.indexOf("=");
      if (i <= 0) throw new UsageError(`--storage wants name=path, got "${s}"`);
      storage[s.slice(0, i)] = s.slice(i + 1);
    }
    const files = str(v, "files")?.split(",").map((f) => f.trim()).filter(Boolean);
    const timeout = int(v, "timeout");
    const reset = !v["no-reset"];
    const shown = progress(io);
    const { flash } = await import("../flash.ts"); // loaded when run, so that --help stays fast
    const r = await flash({
      board: str(v, "board")!, port: str(v, "port"), baud: int(v, "baud"),
      wifi: readSecret(v, WIFI), host: str(v, "host"), project: str(v, "project"), files,
      app: p[0], name: str(v, "name"), storage, version: str(v, "version"),
      text: !!v.text, reset, dryRun,
      timeout: timeout === undefined ? undefined : timeout * 1000,
      log: shown.say,
      onCliLog: v.verbose ? (s) => io.stderr.write("  cli| " + s + "\n") : undefined,
    });
    const sizes = r.files.map((f) => `${f.name} ${f.size} B`).join(", ");
    if (r.dryRun !== undefined) {
      line(io, `wrote ${r.dryRun} (${r.script.length} bytes): ${sizes}`);
      return;
    }
    const port = str(v, "port")!;
    line(io, `flash ok: ${str(v, "board")} on ${port}${port.startsWith("tcp://") ? "" : ` at ${r.baud} baud`}: ${sizes}; ` +
      (reset ? "the board reboots into its app" : "the board stays at its prompt"));
  },
};
