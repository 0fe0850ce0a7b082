// The command-line options that choose and reach a store, shared by release, rollback,
// list and prune, and the helpers their commands share (--json, messages on stderr).
import type { OptionSpec, Values, Io } from "../commands/types.ts";
import { str, int, JSON_OPTION } from "../commands/types.ts";
import { DEFAULT_VERSION_MAX_AGE, type StoreOptions } from "./store.ts";
import { describeLock, type LockRecord } from "./store-lock.ts";

export const ROOT_HELP =
  "the server root: a folder that exists, or s3://bucket[/prefix] (credentials and region from the AWS chain: " +
  "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_REGION). On s3:// a published object is never overwritten: " +
  "each is checked first (HEAD) and written with If-None-Match: *, which stores with conditional writes " +
  "(AWS S3, MinIO, R2) refuse atomically; on a store that ignores it the check alone protects";

export const storeOptionSpecs: Record<string, OptionSpec> = {
  root: { type: "string", placeholder: "<dir|s3://bucket/prefix>", help: ROOT_HELP },
  project: { type: "string", placeholder: "<name>", help: "the project: a folder below the root (A-Z a-z 0-9 . _ - and /)" },
  endpoint: { type: "string", placeholder: "<url>", help: "s3:// only: the endpoint of an S3-compatible store (MinIO, R2, Spaces, Garage)", defaultText: "AWS S3" },
  "path-style": { type: "boolean", help: "s3:// only: address the bucket as <endpoint>/<bucket>/<key> (MinIO, Garage) instead of <bucket>.<endpoint>", default: false },
  json: JSON_OPTION,
};

// For the commands that change the project (they hold its lock).
export const recoverSpec: OptionSpec = {
  type: "boolean", default: false,
  help: "the project's lock is held by a command that is not running any more (killed, or on another machine): undo what it left, then go on",
};

// For the commands that write the version object.
export const versionMaxAgeSpec: OptionSpec = {
  type: "string", placeholder: "<seconds>", defaultText: String(DEFAULT_VERSION_MAX_AGE),
  help: "s3:// only: Cache-Control max-age of the version object, which bounds how long a release or rollback takes to reach boards behind a cache",
};

export function storeOptionsFrom(v: Values): StoreOptions {
  return { endpoint: str(v, "endpoint"), pathStyle: v["path-style"] === true ? true : undefined, versionMaxAge: int(v, "version-max-age") };
}

// Progress and notes go to stderr; progress only when stderr is a terminal.
export function note(io: Io, s: string): void {
  io.stderr.write(s + "\n");
}

export function stderrIsTTY(io: Io): boolean {
  return (io.stderr as { isTTY?: boolean }).isTTY === true;
}

// What a command says when it took over the lock of a killed one.
export function recoveredNote(r: { recovered?: LockRecord | "unreadable"; cleaned: string[] }): string | undefined {
  if (r.recovered === undefined && r.cleaned.length == 0) return undefined;
  const who = r.recovered === undefined ? "" : r.recovered == "unreadable" ? "an unreadable lock; " : `the lock of an interrupted ${describeLock(r.recovered)}; `;
  return `recovered ${who}removed ${r.cleaned.length ? r.cleaned.join(" ") : "nothing"}`;
}
