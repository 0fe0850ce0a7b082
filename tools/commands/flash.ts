// CLI: espruino-ota flash
import { flash } from "../flash.ts";
import { UsageError, str, int, line, type Command } from "./types.ts";
import { WIFI, readSecret, secretOptions } from "../lib/secret.ts";

export const flashCommand: Command = {
  summary: "put the ota module, the boot stage, an app and Wi-Fi/update settings on a board running Espruino",
  usage:
    "--board ESP32|ESP8266_4MB|ESP8266_BOARD|LINUX|<board.json> --port /dev/ttyUSB0|tcp://host[:port] [--baud 115200]\n" +
    "      [--wifi ssid:password | --wifi-file <file> | $ESPRUINO_OTA_WIFI] [--host http://… --project <name> [--files .bootcde,main]] [--version <v>]\n" +
    "      [--name <Storage name, default .bootcde>] [--storage name=path …] [--no-reset] [--timeout <s>] [--verbose]\n" +
    "      [--dry-run out.js] [app.js]",
  options: {
    board: { type: "string" }, port: { type: "string" }, baud: { type: "string" },
    ...secretOptions(WIFI), host: { type: "string" }, project: { type: "string" }, files: { type: "string" },
    name: { type: "string" }, storage: { type: "string", multiple: true }, version: { type: "string" },
    "no-reset": { type: "boolean" }, "dry-run": { type: "string" }, timeout: { type: "string" }, verbose: { type: "boolean" },
  },
  required: ["board"],
  positionals: true,
  async run(v, p, io) {
    if (p.length > 1) throw new UsageError(`one app file at most, got ${p.join(" ")}`);
    if (!str(v, "dry-run") && !str(v, "port")) throw new UsageError("missing --port (or --dry-run out.js to only write the upload script)");
    const storage: Record<string, string> = {};
    for (const s of (v.storage as string[] | undefined) ?? []) {
      const i = s.indexOf("=");
      if (i <= 0) throw new UsageError(`--storage wants name=path, got "${s}"`);
      storage[s.slice(0, i)] = s.slice(i + 1);
    }
    const files = str(v, "files")?.split(",").map((f) => f.trim()).filter(Boolean);
    const timeout = int(v, "timeout");
    await flash({
      board: str(v, "board")!, port: str(v, "port"), baud: int(v, "baud"),
      wifi: readSecret(v, WIFI), host: str(v, "host"), project: str(v, "project"), files,
      app: p[0], name: str(v, "name"), storage, version: str(v, "version"),
      reset: !v["no-reset"], dryRun: str(v, "dry-run"),
      timeout: timeout === undefined ? undefined : timeout * 1000,
      log: (s) => line(io, s),
      onCliLog: v.verbose ? (s) => io.stderr.write("  cli| " + s + "\n") : undefined,
    });
  },
};
