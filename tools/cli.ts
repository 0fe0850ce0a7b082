// espruino-ota <command> [options]: the single CLI entry for the host tools.
// main() is what tools/bin.js runs; tests call it directly with their own streams.
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { E_OPTS } from "../modules/formats.ts";
import { commands } from "./commands/index.ts";
import { UsageError, type Io } from "./commands/types.ts";

export { commands, registerCommand } from "./commands/index.ts";
export type { Command, Io } from "./commands/types.ts";

export function usage(name?: string): string {
  const c = name !== undefined ? commands[name] : undefined;
  if (c) return `usage: espruino-ota ${name} ${c.usage}\n`;
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return (
    "usage: espruino-ota <command> [options]\n\ncommands:\n" +
    Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join("\n") +
    "\n\nespruino-ota <command> --help shows a command's options.\n"
  );
}

// Runs one command line; resolves to the exit code (0 ok, 1 failed, 2 bad usage).
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name == "-h" || name == "--help" || name == "help") {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    io.stderr.write(`espruino-ota: unknown command "${name}"\n\n` + usage());
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(usage(name));
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: !!cmd.positionals, strict: true });
    } catch (e: any) {
      throw new UsageError(e.message);
    }
    const missing = (cmd.required ?? []).filter((o) => parsed.values[o] === undefined);
    if (missing.length) throw new UsageError(`missing ${missing.map((o) => "--" + o).join(", ")}`);
    const code = await cmd.run(parsed.values, parsed.positionals, io);
    return code ?? 0;
  } catch (e: any) {
    if (e instanceof UsageError || (e && e.code === E_OPTS)) {
      io.stderr.write(`espruino-ota ${name}: ${e.message}\n` + usage(name));
      return 2;
    }
    io.stderr.write(`espruino-ota ${name}: ${e?.message ?? e}${e?.code ? ` (${e.code})` : ""}\n`);
    return 1;
  }
}

// `npx tsx tools/cli.ts ...` runs it directly too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
