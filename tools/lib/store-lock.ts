// One publisher at a time per project: release, rollback and prune hold <project>/.ota-tmp-lock
// while they change the project. The lock also records what a killed command leaves
// behind, so the next command can undo or finish it:
//   release: the keys it is about to place (undo): removed unless its version went live,
//     so that version can be published again;
//   prune: the keys of the release it is removing (finish): removed.
// A lock whose process is gone (same machine, no such process) is recovered by the next
// command; one from another machine, or from a process that still runs, is recovered
// only with --recover, which the error names. The lock is written put-if-absent, so two
// publishers cannot both take it (on an object store without conditional writes, see
// store-s3.ts). seq is counted under the lock, so two releases never share one.
// The name starts with TMP_PREFIX: list ignores it, and servers do not serve it.
import * as os from "node:os";
import { E_BUSY, E_EXISTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";
import { TMP_PREFIX, processAlive } from "./atomic.ts";
import { relPathError } from "./paths.ts";
import { readLive, type Store } from "./store.ts";

export const LOCK_NAME = TMP_PREFIX + "lock";

export interface LockRecord {
  op: "release" | "rollback" | "prune";
  version?: string; // release: the version being published; prune: the one being removed
  host: string;
  pid: number;
  started: string; // ISO time
  undo?: string[]; // release: keys it may have placed, manifest first
  finish?: string[]; // prune: keys of the release it was removing, manifest first
}

export interface ProjectLock {
  // A lock that a killed command had left, now recovered ("unreadable": its record was not).
  recovered?: LockRecord | "unreadable";
  cleaned: string[]; // keys removed on the way in: undone, finished, or temporary
  update(patch: Partial<LockRecord>): Promise<void>;
  release(): Promise<void>;
}

export function lockKey(project: string): string {
  return project + "/" + LOCK_NAME;
}

function parseLock(body: Buffer | undefined): LockRecord | undefined {
  try {
    const r = JSON.parse(body!.toString("utf8"));
    return typeof r?.op == "string" && typeof r.pid == "number" && typeof r.host == "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

export async function readLock(store: Store, project: string): Promise<LockRecord | "unreadable" | undefined> {
  const body = await store.read(lockKey(project));
  return body === undefined ? undefined : parseLock(body) ?? "unreadable";
}

export function describeLock(l: LockRecord): string {
  return `${l.op}${l.version ? " " + l.version : ""} by process ${l.pid} on ${l.host}, started ${l.started}`;
}

// Only keys of the recorded version's own release, below the project: a lock is data read
// from the store, and must not steer a delete anywhere else.
function ownKeys(project: string, version: string | undefined, keys: unknown): string[] {
  if (!version || !Array.isArray(keys)) return [];
  const starts = [`${project}/${version}_`, `${project}/${version}/`];
  return keys.filter((k): k is string => typeof k == "string" && !relPathError(k) && starts.some((s) => k.startsWith(s)));
}

async function removeAll(store: Store, keys: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const k of keys) {
    if (!(await store.stat(k))) continue;
    await store.delete(k);
    removed.push(k);
  }
  for (const k of removed) await store.removeDir(k.slice(0, k.lastIndexOf("/"))); // subdir layout
  return removed;
}

// Undoes or finishes what the killed command of lock `l` left.
async function recover(store: Store, project: string, l: LockRecord | undefined): Promise<string[]> {
  if (l?.op == "release" && (await readLive(store, project)) !== l.version) return removeAll(store, ownKeys(project, l.version, l.undo));
  if (l?.op == "prune") return removeAll(store, ownKeys(project, l.version, l.finish));
  return [];
}

// Takes the project's lock for `op`, first recovering one that a killed command left.
export async function lockProject(store: Store, project: string, op: LockRecord["op"], opts: { version?: string; recover?: boolean } = {}): Promise<ProjectLock> {
  const key = lockKey(project);
  let mine: LockRecord = { op, version: opts.version, host: os.hostname(), pid: process.pid, started: new Date().toISOString() };
  const body = () => Buffer.from(JSON.stringify(mine));
  let recovered: LockRecord | "unreadable" | undefined;
  const cleaned: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      await store.putIfAbsent(key, body(), "lock");
      break;
    } catch (e: any) {
      if (e?.code != E_EXISTS || attempt >= 2) throw e;
    }
    const held = await store.read(key);
    if (held === undefined) continue; // released meanwhile
    const l = parseLock(held);
    const gone = l !== undefined && l.host == os.hostname() && !processAlive(l.pid);
    if (!gone && !opts.recover) {
      const who = l ? describeLock(l) : `an unreadable lock`;
      const running = l && l.host == os.hostname() ? `process ${l.pid} still runs here: wait for it to finish; if that process is something else, ` : "if it is not running any more, ";
      fail(E_BUSY, `${project} is being changed by another command (${who}; ${store.where(key)}): ${running}run again with --recover to clean up what it left`);
    }
    cleaned.push(...(await recover(store, project, l)));
    recovered = l ?? "unreadable";
    await store.delete(key);
  }
  // Temporary files whose writer is gone: from a killed command, or from one killed while
  // it wrote the lock itself.
  cleaned.push(...(await store.sweep(project)));
  return {
    recovered,
    cleaned,
    async update(patch) {
      mine = { ...mine, ...patch };
      await store.put(key, body(), "lock");
    },
    async release() {
      await store.delete(key);
    },
  };
}
