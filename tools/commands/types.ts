// The shape of a CLI command and the conventions every command follows (tools/cli.ts
// enforces the first four; the helpers below give the rest one spelling):
//   - options: each declares `help` (one line: what it means), its value's `placeholder`,
//     and its default (`default`, which parseArgs applies, or `defaultText` when the
//     default is computed); `espruino-ota help <command>` and `<command> --help` print them.
//   - bad usage (a missing required option, an unknown one, a bad value): throw
//     UsageError (or fail(E_OPTS, …)); the CLI prints the message on stderr and exits 2.
//   - any other failure: throw an OtaError (fail(code, message), tools/lib/errors.ts); the
//     CLI prints "espruino-ota <command>: <message> (<code>)" on stderr and exits 1.
//   - a missing --root is bad usage: list "root" in `required`. A --root that does not
//     exist is the command's to refuse (exit 1), except where the command creates it.
//   - the result goes to stdout: line() for people, or, with --json (JSON_OPTION), exactly
//     one JSON document through printJson() and nothing else on stdout.
//   - progress goes to stderr and only when stderr is a terminal: progress(io) gives a
//     no-op on a pipe, so scripts and CI logs see only results and errors.
import type { ParseArgsConfig } from "node:util";
import { E_OPTS } from "../../modules/formats.ts";
import { OtaError } from "../lib/errors.ts";

type ParseArgsOptionConfig = NonNullable<ParseArgsConfig["options"]>[string];

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface Io {
  stdout: Stream;
  stderr: Stream;
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

// One option of a command: what node:util parseArgs needs, plus what `--help` prints.
export type OptionSpec = ParseArgsOptionConfig & {
  help: string; // what the option means, one line
  placeholder?: string; // the value's name in the help text, e.g. "<dir>" (string options)
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

// Bad command line: the CLI prints the message and the command's usage, exits 2. An
// OtaError with code E_OPTS, so that library code can say the same with fail(E_OPTS, …).
export class UsageError extends OtaError {
  constructor(message: string) {
    super(E_OPTS, message);
  }
}

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

/** One line of the result, on stdout. */
export function line(io: Io, s = ""): void {
  io.stdout.write(s + "\n");
}

/** The port and listen address of the two servers (serve, nginx): one meaning, one help text. */
export const PORT_OPTION: OptionSpec = { type: "string", placeholder: "<N>", help: "TCP port", default: "8080" };
export const LISTEN_OPTION: OptionSpec = { type: "string", placeholder: "<address>", help: "address to listen on; 0.0.0.0 for boards on the network", default: "127.0.0.1" };

/** The --json option, spelled the same on every command that has it. */
export const JSON_OPTION: OptionSpec = { type: "boolean", help: "print the result as one JSON document on stdout (for scripts), and nothing else there" };

/** The result as one JSON document on stdout: what --json prints. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export interface Bar {
  update(done: number, label?: string): void;
  stop(): void;
}

export interface Progress {
  /** whether anything is shown: stderr is a terminal */
  shown: boolean;
  /** a line of progress ("writing ota, 9999 bytes") */
  say(s: string): void;
  /** a bar from 0 to total (bytes, or any unit) */
  bar(total: number, unit?: string): Promise<Bar>;
}

const NO_BAR: Bar = { update() {}, stop() {} };

/** Progress for people: on stderr, and only when it is a terminal; a no-op otherwise. */
export function progress(io: Io): Progress {
  const shown = !!io.stderr.isTTY;
  return {
    shown,
    say: (s) => {
      if (shown) io.stderr.write(s + "\n");
    },
    async bar(total, unit = "bytes") {
      if (!shown) return NO_BAR;
      const { default: cliProgress } = await import("cli-progress"); // only on a terminal
      const b = new cliProgress.SingleBar(
        { stream: io.stderr, format: ` {bar} {percentage}% | {value}/{total} ${unit} | {label}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      b.start(total, 0, { label: "" });
      return { update: (done, label = "") => b.update(done, { label }), stop: () => b.stop() };
    },
  };
}
