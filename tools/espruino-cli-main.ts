// `npm run espruino -- [--board ESP32] [espruino CLI options] main.js`: the espruino CLI with
// the fixes of tools/espruino-cli.ts (passthroughArgs). A file of its own, so that the CLI
// bundle, which includes espruino-cli.ts, never mistakes itself for this command.
import { spawn } from "node:child_process";
import { passthroughArgs, commandLine, espruinoCliJs, PRELOAD } from "./espruino-cli.ts";

try {
  const args = passthroughArgs(process.argv.slice(2));
  if (process.env.ESPRUINO_OTA_DEBUG) process.stderr.write(commandLine(args) + "\n");
  const child = spawn(process.execPath, ["--require", PRELOAD, espruinoCliJs(), ...args], { stdio: "inherit" });
  child.on("exit", (code, sig) => { process.exitCode = code ?? (sig ? 1 : 0); });
} catch (e: any) {
  process.stderr.write(`espruino: ${e.message}\n`);
  process.exitCode = 1;
}
