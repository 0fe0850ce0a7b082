// The shape of a CLI command: its options (node:util parseArgs), its usage text, and a
// run() that calls the command's function.
import type { ParseArgsConfig } from "node:util";

type ParseArgsOptionConfig = NonNullable<ParseArgsConfig["options"]>[string];

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

// One option of a command: what node:util parseArgs needs, plus what `--help` prints.
export type OptionSpec = ParseArgsOptionConfig & {
  help?: string; // what the option means, one line
  placeholder?: string; // the value's name in the help text, e.g. "<dir>"
  defaultText?: string; // the default as the help text states it, when it is not `default`
};

export interface Command {
  summary: string; // one line for the command list
  usage: string; // the arguments, after "espruino-ota <name> "
  options: Record<string, OptionSpec>;
  required?: string[]; // options that must be given
  positionals?: boolean; // takes positional arguments
  run(values: Values, positionals: string[], io: Io): Promise<number | void>;
}

// Bad command line: the CLI prints the message and the command's usage, exits 2.
export class UsageError extends Error {}

export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x == "string" ? x : undefined;
}

export function int(v: Values, name: string): number | undefined {
  const x = str(v, name);
  if (x === undefined) return undefined;
  if (!/^\d+$/.test(x)) throw new UsageError(`--${name} must be a whole number, not "${x}"`);
  return Number(x);
}

export function line(io: Io, s = ""): void {
  io.stdout.write(s + "\n");
}
