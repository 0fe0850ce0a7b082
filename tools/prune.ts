// `prune`: removes old releases (their files and manifest), keeping the `keep` newest
// ones and, always, the live one and the newest one (it holds the project's highest seq,
// from which the next release's seq is counted: removing it would let a later release
// repeat a seq that boards have already installed, and they would refuse it).
// It deletes only keys that a release's own manifest names, after the board's rules have
// accepted each name, never one that a kept release also names, and never through a
// symlink (the local store refuses them).
import { E_OPTS, E_SYMLINK } from "../modules/formats.ts";
import { checkProject, releaseKeys } from "./lib/paths.ts";
import { openStore, storeOptions, readLive, type Store, type StoreOptions } from "./lib/store.ts";
import { lockProject, type LockRecord } from "./lib/store-lock.ts";
import { fail } from "./lib/errors.ts";
import { listReleases, type ListedVersion } from "./list.ts";

export interface PruneOptions extends StoreOptions {
  root: string | Store;
  project: string;
  keep: number; // how many of the newest releases to keep (the live one is kept as well)
  dryRun?: boolean; // only report what would be removed
  recover?: boolean; // take over the project's lock from a command that is not running any more
}

export interface PruneResult {
  live: string | undefined;
  kept: string[];
  removed: string[];
  skipped: { path: string; reason: string }[]; // manifests that could not be read, releases behind a symlink: left alone
  recovered?: LockRecord | "unreadable";
  cleaned: string[];
}

function keysOf(project: string, v: ListedVersion): string[] {
  const k = releaseKeys(project, v.version, v.files.map((f) => f.name), v.layout);
  return [k.manifest, ...k.files.map((f) => f.key)]; // the manifest first: see removeRelease
}

async function removeRelease(store: Store, project: string, v: ListedVersion, keys: string[]): Promise<void> {
  // The manifest goes first: an interrupted prune leaves stray files, never a manifest
  // that promises files which are gone (and the lock names the rest, for the next command).
  for (const k of keys) await store.delete(k);
  if (v.layout == "subdir") await store.removeDir(releaseKeys(project, v.version, [], v.layout).dir); // only if now empty
}

// A key that the store refuses to touch (a symlink on the way), so that a release is
// removed whole or not at all.
async function firstUnsafe(store: Store, keys: string[]): Promise<{ path: string; reason: string } | undefined> {
  for (const k of keys) {
    try {
      await store.stat(k);
    } catch (e: any) {
      if (e?.code == E_SYMLINK) return { path: store.where(k), reason: e.message };
      throw e;
    }
  }
  return undefined;
}

export async function prune(opts: PruneOptions): Promise<PruneResult> {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) fail(E_OPTS, `keep must be a whole number of releases, not ${opts.keep}`);
  const project = checkProject(opts.project);
  const store = await openStore(opts.root, storeOptions(opts));
  const lock = opts.dryRun ? undefined : await lockProject(store, project, "prune", { recover: opts.recover });
  try {
    const live = await readLive(store, project);
    const { versions, skipped } = await listReleases(store, project);
    const newestFirst = [...versions].reverse();
    const keepVersion = (v: ListedVersion, i: number) => i == 0 || i < opts.keep || v.version === live;
    const claimed = new Set(newestFirst.filter(keepVersion).flatMap((v) => keysOf(project, v)));
    const kept: string[] = [];
    const removed: string[] = [];
    for (let i = 0; i < newestFirst.length; i++) {
      const v = newestFirst[i];
      // Re-read the live version before each removal: a rollback by hand may have run meanwhile.
      if (keepVersion(v, i) || v.version === (await readLive(store, project))) {
        kept.push(v.version);
        continue;
      }
      const keys = keysOf(project, v).filter((k) => !claimed.has(k));
      const unsafe = await firstUnsafe(store, keys);
      if (unsafe) {
        skipped.push(unsafe); // left whole rather than half removed
        kept.push(v.version);
        continue;
      }
      if (lock) {
        await lock.update({ version: v.version, finish: keys });
        await removeRelease(store, project, v, keys);
      }
      removed.push(v.version);
    }
    return { live, kept, removed, skipped, recovered: lock?.recovered, cleaned: lock?.cleaned ?? [] };
  } finally {
    await lock?.release();
  }
}
