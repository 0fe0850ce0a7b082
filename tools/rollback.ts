// `rollback`: makes an already published release live again by pointing
// <project>/version at it, after checking that every one of its files is there.
//
// Signed fleets: a board with a key refuses a release whose seq is not above the highest
// it has installed (EREJECTED), so an older release cannot be replayed by whoever can
// write the server. With `key`, rollback re-signs the older release's manifest with a new
// seq (one more than the project's highest), after checking that its current signature is
// valid under that key (re-signing must not vouch for files nobody signed). Without `key`,
// rolling back a signed release warns that such boards will refuse it.
import { timingSafeEqual } from "node:crypto";
import { E_MANIFEST, E_SIG } from "../modules/formats.ts";
import { checkLayout, checkProject, checkVersion, releaseKeys, versionKey, type Layout } from "./lib/paths.ts";
import { buildManifest, manifestText, checkManifest, type Manifest } from "./lib/manifest.ts";
import type { Key } from "./lib/digest.ts";
import { openStore, storeOptions, readLive, type Store, type StoreOptions } from "./lib/store.ts";
import { lockProject, type LockRecord } from "./lib/store-lock.ts";
import { fail, E_OPTS, E_MISSING, E_UNKNOWN_VERSION } from "./lib/errors.ts";
import { listReleases, highestSeq } from "./list.ts";

export interface RollbackOptions extends StoreOptions {
  root: string | Store;
  project: string;
  version: string;
  layout?: Layout | string; // default: the layout its manifest is found in, else "prefix"
  files?: string[]; // Storage names to check when the release has no manifest
  key?: Key; // re-sign the release's manifest with a new seq, so boards with this key take it
  recover?: boolean; // take over the project's lock from a command that is not running any more
}

export interface RollbackResult {
  version: string;
  previous: string | undefined; // what was live before
  layout: Layout;
  files: string[]; // names checked
  seq: number | undefined; // the release's seq now (re-signed: the new one)
  resigned: boolean;
  warning?: string; // why some boards will refuse this rollback
  recovered?: LockRecord | "unreadable";
  cleaned: string[];
}

function sameSig(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length == y.length && timingSafeEqual(x, y);
}

// The release's manifest and layout, from whichever layout holds it.
async function findManifest(store: Store, project: string, version: string, layout: Layout | undefined): Promise<{ m?: Manifest; layout: Layout }> {
  for (const l of layout ? [layout] : (["prefix", "subdir"] as Layout[])) {
    const key = releaseKeys(project, version, [], l).manifest;
    const body = await store.read(key);
    if (body !== undefined) return { m: checkManifest(body.toString("utf8"), store.where(key), version), layout: l };
  }
  return { layout: layout ?? "prefix" };
}

export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
  const project = checkProject(opts.project);
  const wanted = opts.layout !== undefined ? checkLayout(opts.layout) : undefined;
  const version = checkVersion(opts.version, wanted ?? "prefix");
  if (opts.key !== undefined && opts.key.length == 0) fail(E_OPTS, "the signing key is empty");
  const store = await openStore(opts.root, storeOptions(opts));
  const lock = await lockProject(store, project, "rollback", { version, recover: opts.recover });
  try {
    const { m, layout } = await findManifest(store, project, version, wanted);
    if (m?.project !== undefined && m.project !== project) fail(E_MANIFEST, `the manifest of "${version}" is for project "${m.project}", not ${project}`);
    if (!m && !opts.files?.length) fail(E_UNKNOWN_VERSION, `version "${version}" of ${project} has no manifest; give the names of its files to check them before rolling back`);
    if (!m && opts.key !== undefined) fail(E_SIG, `version "${version}" of ${project} has no manifest to sign; publish it anew with release --key`);

    const expected = new Map<string, number | undefined>(); // name -> size, if known
    for (const f of m?.files ?? []) expected.set(f.name, f.size);
    for (const n of opts.files ?? []) if (!expected.has(n)) expected.set(n, undefined);
    const names = [...expected.keys()];
    // The board's rules decide every name before it becomes a key: "../../x" is refused here.
    const keys = releaseKeys(project, version, names, layout);
    for (const f of keys.files) {
      const st = await store.stat(f.key);
      if (!st) fail(E_MISSING, `cannot roll back to "${version}": ${store.where(f.key)} is missing`);
      if (!st.regular) fail(E_MISSING, `cannot roll back to "${version}": ${store.where(f.key)} is not a file`);
      const size = expected.get(f.name);
      if (size !== undefined && st.size != size) fail(E_MISSING, `cannot roll back to "${version}": ${store.where(f.key)} has ${st.size} bytes, its manifest says ${size}`);
    }

    const highest = highestSeq((await listReleases(store, project)).versions);
    let seq = m?.seq;
    let warning: string | undefined;
    if (m && opts.key !== undefined) {
      const signed = m.sig !== undefined && sameSig(buildManifest({ project: m.project, version, seq: m.seq, files: m.files }, opts.key).sig, m.sig);
      if (!signed) fail(E_SIG, `the manifest of "${version}" is ${m.sig === undefined ? "not signed" : "not signed with this key"}: re-signing would vouch for files nobody signed with it; publish them anew with release --key`);
      seq = highest + 1;
      await store.put(keys.manifest, Buffer.from(manifestText(buildManifest({ project, version, seq, files: m.files }, opts.key))), "manifest");
    } else if (m && (m.sig !== undefined || m.sig1 !== undefined) && (m.seq ?? 0) < highest) {
      warning = `"${version}" is signed with seq ${m.seq ?? "(none)"}, below the project's highest (${highest}): boards updating with a key refuse it as a replay (EREJECTED) unless it is re-signed: rollback --key <file>`;
    }

    const previous = await readLive(store, project);
    await store.put(versionKey(project), Buffer.from(version), "version");
    return { version, previous, layout, files: names, seq, resigned: seq !== m?.seq, warning, recovered: lock.recovered, cleaned: lock.cleaned };
  } finally {
    await lock.release();
  }
}
