// espruino-ota <command> [options]: the single CLI entry for the host tools.
// main() is what tools/bin.ts runs; tests call it directly with their own streams.
// The conventions it enforces are listed in tools/commands/types.ts.
import { parseArgs } from "node:util";
import { E_OPTS } from "../modules/formats.ts";
import { commands } from "./commands/index.ts";
import { UsageError, type Command, type Io, type OptionSpec } from "./commands/types.ts";
import { packageVersion } from "./package-files.ts";

export { commands } from "./commands/index.ts";
export type { Command, Io } from "./commands/types.ts";

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return (
    "usage: espruino-ota <command> [options]\n\ncommands:\n" +
    Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join("\n") +
    "\n\nespruino-ota help <command> (or <command> --help) lists a command's options.\n" +
    "espruino-ota --version prints the version.\n"
  );
}

function usageLine(name: string, c: Command): string {
  return `usage: espruino-ota ${name} ${c.usage}\n`;
}

/** `espruino-ota help <name>`: the usage line, the summary and every option with its meaning and default. */
export function commandHelp(name: string): string {
  const c = commands[name];
  const rows = Object.entries({ ...c.options, help: HELP_OPTION }).map(([long, o]) => {
    const flags = (o.short ? `-${o.short}, ` : "    ") + `--${long}` + (o.type == "string" ? ` ${o.placeholder ?? "<value>"}` : "");
    const notes: string[] = [];
    if (c.required?.includes(long)) notes.push("required");
    if (o.multiple) notes.push("repeatable");
    const dflt = o.defaultText ?? (o.default !== undefined && o.type == "string" ? String(o.default) : undefined);
    if (dflt !== undefined) notes.push(`default: ${dflt}`);
    return [flags, o.help + (notes.length ? ` (${notes.join("; ")})` : "")];
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return `${usageLine(name, c)}\n${c.summary}\n\noptions:\n` + rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`).join("\n") + "\n";
}

function findCommand(name: string): Command | undefined {
  return Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
}

// Runs one command line; resolves to the exit code (0 ok, 1 failed, 2 bad usage).
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name == "--version") {
    io.stdout.write(packageVersion() + "\n");
    return 0;
  }
  if (name == "help" && rest.length) {
    if (!findCommand(rest[0])) {
      io.stderr.write(`espruino-ota help: unknown command "${rest[0]}"\n\n` + usage());
      return 2;
    }
    io.stdout.write(commandHelp(rest[0]));
    return 0;
  }
  if (name === undefined || name == "-h" || name == "--help" || name == "help") {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = findCommand(name);
  if (!cmd) {
    io.stderr.write(`espruino-ota: unknown command "${name}"\n\n` + usage());
    return 2;
  }
  const end = rest.indexOf("--");
  const flags = end < 0 ? rest : rest.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h")) {
    io.stdout.write(commandHelp(name));
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
    if (e && e.code === E_OPTS) {
      io.stderr.write(`espruino-ota ${name}: ${e.message}\n${usageLine(name, cmd)}(espruino-ota help ${name} lists the options)\n`);
      return 2;
    }
    io.stderr.write(`espruino-ota ${name}: ${e?.message ?? e}${e?.code ? ` (${e.code})` : ""}\n`);
    return 1;
  }
}
