// `list`: the live version of a project and every release published below the server
// root, found by their manifests in both layouts. Only objects below <project>/ are read,
// and a manifest that names a file the board would refuse (or a path such as "../x") is
// reported, never followed.
import { type ManifestFile } from "../modules/formats.ts";
import { checkProject, manifestOf, releaseNameError, releaseVersionError, type Layout } from "./lib/paths.ts";
import { checkManifest } from "./lib/manifest.ts";
import { TMP_PREFIX } from "./lib/atomic.ts";
import { openStore, storeOptions, readLive, type Store, type StoreOptions } from "./lib/store.ts";
import { readLock, type LockRecord } from "./lib/store-lock.ts";

export interface ListOptions extends StoreOptions {
  root: string | Store;
  project: string;
}

export interface ListedVersion {
  version: string;
  layout: Layout;
  seq: number | undefined; // the release's sequence number; none before releases had one
  files: ManifestFile[];
  published: Date; // when its manifest was written
  signed: boolean;
  manifestKey: string;
  manifestPath: string; // a local path or an s3:// URL
}

export interface ListResult {
  live: string | undefined; // content of <project>/version, if any
  versions: ListedVersion[]; // oldest first: by seq, then by publishing time
  skipped: { path: string; reason: string }[]; // manifests that could not be read or are unsafe
  lock?: LockRecord | "unreadable"; // a command at work on the project, or one that was killed
}

// The releases of `project` in `store`, oldest first.
export async function listReleases(store: Store, project: string): Promise<Pick<ListResult, "versions" | "skipped">> {
  const versions: ListedVersion[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const obj of await store.list(project)) {
    if (obj.key.split("/").some((seg) => seg.startsWith(TMP_PREFIX))) continue;
    const c = manifestOf(project, obj.key);
    if (!c || releaseVersionError(c.version, c.layout)) continue;
    const where = store.where(obj.key);
    try {
      const body = await store.read(obj.key);
      if (body === undefined) continue; // removed meanwhile
      const m = checkManifest(body.toString("utf8"), where, c.version);
      if (m.project !== undefined && m.project !== project) throw new Error(`is for project "${m.project}"`);
      if (m.seq !== undefined && !(Number.isSafeInteger(m.seq) && m.seq >= 0)) throw new Error(`has no valid seq: ${JSON.stringify(m.seq)}`);
      for (const f of m.files) {
        const why = releaseNameError(f.name, c.layout);
        if (why) throw new Error(`names a file that ${why}: "${f.name}"`);
      }
      versions.push({
        version: c.version, layout: c.layout, seq: m.seq, files: m.files, published: obj.modified,
        signed: m.sig !== undefined || m.sig1 !== undefined, manifestKey: obj.key, manifestPath: where,
      });
    } catch (e: any) {
      skipped.push({ path: where, reason: e.message });
    }
  }
  versions.sort((a, b) =>
    (a.seq ?? 0) - (b.seq ?? 0) || a.published.getTime() - b.published.getTime() || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { versions, skipped };
}

// The highest seq among `versions` (0 if none has one): the next release gets one more.
export function highestSeq(versions: ListedVersion[]): number {
  return versions.reduce((a, v) => Math.max(a, v.seq ?? 0), 0);
}

export async function list(opts: ListOptions): Promise<ListResult> {
  const project = checkProject(opts.project);
  const store = await openStore(opts.root, storeOptions(opts));
  const live = await readLive(store, project);
  const { versions, skipped } = await listReleases(store, project);
  const lock = await readLock(store, project);
  return lock === undefined ? { live, versions, skipped } : { live, versions, skipped, lock };
}
