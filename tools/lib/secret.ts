// Secrets on the command line (`--password`, `--wifi`) are visible to every user of the
// machine (ps, /proc/<pid>/cmdline) and land in shell histories. So each secret option
// `--x` also comes as `--x-file <path>` (the file's text) or from an environment variable;
// exactly one of the three may be given. And files the tools write that hold a secret are
// written for their owner only (0600).
import { readFileSync } from "node:fs";
import { E_OPTS, E_MISSING } from "../../modules/formats.ts";
import { fail } from "./errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { UsageError, type OptionSpec, type Values } from "../commands/types.ts";

export interface Secret {
  option: string; // "password": --password <value> and --password-file <path>
  env: string; // the environment variable that may hold it instead
  what: string; // what it is, for help and errors: "the Basic auth password"
  placeholder: string; // the value's name in the help text
}

export const PASSWORD: Secret = { option: "password", env: "ESPRUINO_OTA_PASSWORD", what: "the Basic auth password", placeholder: "<password>" };
export const WIFI: Secret = { option: "wifi", env: "ESPRUINO_OTA_WIFI", what: "the Wi-Fi network and its password", placeholder: "<ssid:password>" };

// The two options of a secret, for a command's `options`.
export function secretOptions(s: Secret): Record<string, OptionSpec> {
  return {
    [s.option]: {
      type: "string",
      placeholder: s.placeholder,
      help: `${s.what}; every user can read a command line: prefer --${s.option}-file or $${s.env}`,
      defaultText: `$${s.env}`,
    },
    [s.option + "-file"]: {
      type: "string",
      placeholder: "<file>",
      help: `read ${s.what} from this file (its text, less one final newline)`,
    },
  };
}

function dropFinalNewline(t: string): string {
  return t.endsWith("\r\n") ? t.slice(0, -2) : t.endsWith("\n") ? t.slice(0, -1) : t;
}

// The secret given by `--x`, `--x-file` or the environment variable, or undefined when
// none is. Two of them at once is a usage error, and so is an empty secret: an empty
// password would let anyone in.
export function readSecret(v: Values, s: Secret, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fileOpt = s.option + "-file";
  const given: string[] = [];
  if (typeof v[s.option] == "string") given.push("--" + s.option);
  if (typeof v[fileOpt] == "string") given.push("--" + fileOpt);
  if (env[s.env] !== undefined) given.push("$" + s.env);
  if (given.length > 1) {
    throw new UsageError(`${s.what} is given ${given.length} ways (${given.join(", ")}): give it one way, preferably --${fileOpt} or $${s.env}`);
  }
  if (given.length == 0) return undefined;
  let value: string;
  if (given[0] == "--" + fileOpt) {
    const file = v[fileOpt] as string;
    try {
      value = dropFinalNewline(readFileSync(file, "utf8"));
    } catch (e: any) {
      if (e?.code == "ENOENT") fail(E_MISSING, `--${fileOpt} ${file} does not exist: write ${s.what} into it (chmod 600), or give it as $${s.env}`);
      fail(E_OPTS, `--${fileOpt} ${file} cannot be read (${e?.code ?? e}): it must be a file this user can read`);
    }
  } else value = given[0] == "--" + s.option ? (v[s.option] as string) : env[s.env]!;
  if (value == "") throw new UsageError(`${s.what} from ${given[0]}${given[0] == "--" + fileOpt ? " " + v[fileOpt] : ""} is empty`);
  return value;
}

// Writes a file that holds a secret (an htpasswd file, a script with a Wi-Fi password, a
// private key) readable by its owner only, replacing any older file whatever its mode.
export async function writeSecretFile(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(file, data, 0o600);
}
