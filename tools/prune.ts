// `prune`: removes old releases (their files and manifest), keeping the `keep` most
// recently published ones and, always, the live one.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { E_OPTS } from "../modules/formats.ts";
import { releasePaths } from "./lib/paths.ts";
import { fail } from "./lib/errors.ts";
import { list, readLive, type ListedVersion } from "./list.ts";

export interface PruneOptions {
  root: string;
  project: string;
  keep: number; // how many of the newest releases to keep (the live one is kept as well)
  dryRun?: boolean; // only report what would be removed
}

export interface PruneResult {
  live: string | undefined;
  kept: string[];
  removed: string[];
}

async function removeRelease(root: string, project: string, v: ListedVersion): Promise<void> {
  const paths = releasePaths(root, project, v.version, v.files.map((f) => f.name), v.layout);
  // The manifest goes first: an interrupted prune leaves stray files, never a manifest
  // that promises files which are gone.
  await fsp.rm(paths.manifest.abs, { force: true });
  for (const f of paths.files) await fsp.rm(f.abs, { force: true });
  if (v.layout == "subdir") await fsp.rmdir(paths.dir).catch(() => {}); // only if now empty
}

export async function prune(opts: PruneOptions): Promise<PruneResult> {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) fail(E_OPTS, `keep must be a whole number of releases, not ${opts.keep}`);
  const root = path.resolve(opts.root ?? fail(E_OPTS, "no root given"));
  const { live, versions } = await list({ root, project: opts.project });
  const newestFirst = [...versions].reverse();
  const kept: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i < newestFirst.length; i++) {
    const v = newestFirst[i];
    // Re-read the live version before each removal: a rollback may have run meanwhile.
    if (i < opts.keep || v.version === live || v.version === (await readLive(root, opts.project))) {
      kept.push(v.version);
      continue;
    }
    if (!opts.dryRun) await removeRelease(root, opts.project, v);
    removed.push(v.version);
  }
  return { live, kept, removed };
}
