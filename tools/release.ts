// `release`: publishes the files of one version below a server root (a folder or an
// S3-compatible bucket, tools/lib/store.ts), in either of micropython_ota's layouts, with
// a manifest, and makes it live by writing <project>/version last.
//
// Publish order, each object written whole (never seen half-written) and never over an
// existing one: 1. every file of the release, 2. the manifest, 3. <project>/version.
// A device polling the version file during a release therefore never sees a version
// whose files or manifest are not all complete.
//
// It refuses what every board refuses (formats.ts: names counted in UTF-8 bytes, empty
// files, versions, projects), holds the project's lock while it works (store-lock.ts: a
// killed release is undone by the next one, so its version can be published again), and
// numbers the release: seq is one more than the highest seq of the project's releases.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { E_NAME, E_OPTS, E_SIZE } from "../modules/formats.ts";
import { digestBytes, manifestFile, type Key } from "./lib/digest.ts";
import { buildManifest, manifestText, type Manifest } from "./lib/manifest.ts";
import { checkLayout, checkProject, checkVersion, releaseKeys, releaseNameError, versionKey, type Layout } from "./lib/paths.ts";
import { openStore, storeOptions, type Store, type StoreOptions } from "./lib/store.ts";
import { lockProject, type LockRecord } from "./lib/store-lock.ts";
import { fail, OtaError, E_EXISTS, E_MISSING, E_DUPLICATE } from "./lib/errors.ts";
import { listReleases, highestSeq } from "./list.ts";

export interface ReleaseFile {
  name: string; // Storage name on the board
  path: string; // local input file
}

export interface ReleaseProgress {
  name: string; // Storage name of the file just published
  fileBytes: number; // bytes of this file published so far
  fileSize: number;
  doneBytes: number; // bytes of the whole release published so far
  totalBytes: number;
}

export interface ReleaseOptions extends StoreOptions {
  root: string | Store; // a folder (which must exist) or s3://bucket[/prefix]
  project: string;
  version: string;
  layout?: Layout | string; // "prefix" (default) or "subdir"
  key?: Key; // signing key bytes (a string is taken as UTF-8); adds "sig" and "sig1"
  files: (ReleaseFile | string)[]; // a plain string is an input path; its basename is the name
  recover?: boolean; // take over the project's lock from a command that is not running any more
  createRoot?: boolean; // create a missing root folder (default true; the CLI says false)
  onProgress?: (p: ReleaseProgress) => void;
}

export interface ReleaseResult {
  project: string;
  version: string;
  layout: Layout;
  seq: number;
  manifest: Manifest;
  manifestPath: string; // where the manifest is: a local path or an s3:// URL
  versionPath: string;
  files: { name: string; path: string }[]; // where each file was published
  recovered?: LockRecord | "unreadable"; // the lock of a killed command, recovered first
  cleaned: string[]; // keys that the killed command had left, removed
}

// CLI file argument: "name=path" names the Storage file; otherwise the basename is used.
// An argument that is itself an existing file is taken as a plain path even if it holds "=".
export function parseFileSpec(spec: string, isFile: (p: string) => boolean = () => false): ReleaseFile {
  const eq = spec.indexOf("=");
  if (eq > 0 && !isFile(spec)) return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { name: path.basename(spec), path: spec };
}

function normalizeFiles(files: (ReleaseFile | string)[]): ReleaseFile[] {
  return files.map((f) => (typeof f == "string" ? { name: path.basename(f), path: f } : { name: f.name, path: f.path }));
}

// The input files' bytes, after every check a board would make of them.
async function readInputs(inputs: ReleaseFile[], layout: Layout): Promise<Buffer[]> {
  const seen = new Set<string>();
  for (const f of inputs) {
    const err = releaseNameError(f.name, layout);
    if (err) fail(E_NAME, `file name "${f.name}" ${err}`);
    if (seen.has(f.name)) fail(E_DUPLICATE, `file name "${f.name}" is given twice`);
    seen.add(f.name);
  }
  for (const f of inputs) {
    const st = await fsp.stat(f.path).catch(() => fail(E_MISSING, `input file ${f.path} (for "${f.name}") does not exist`));
    if (!st.isFile()) fail(E_MISSING, `input ${f.path} (for "${f.name}") is not a regular file`);
  }
  // Read whole: the bytes that are hashed are the bytes that are published. Release files
  // are Storage files, a few hundred KB at most.
  const data = await Promise.all(inputs.map((f) => fsp.readFile(f.path)));
  data.forEach((d, i) => {
    if (d.length == 0) fail(E_SIZE, `input file ${inputs[i].path} (for "${inputs[i].name}") is empty: a board's Storage cannot hold an empty file`);
  });
  return data;
}

export async function release(opts: ReleaseOptions): Promise<ReleaseResult> {
  const project = checkProject(opts.project);
  const layout = checkLayout(opts.layout);
  const version = checkVersion(opts.version, layout);
  if (!opts.files || opts.files.length == 0) fail(E_OPTS, "a release needs at least one file");
  if (opts.key !== undefined && opts.key.length == 0) fail(E_OPTS, "the signing key is empty");
  const inputs = normalizeFiles(opts.files);
  const keys = releaseKeys(project, version, inputs.map((f) => f.name), layout);
  const other = releaseKeys(project, version, [], layout == "prefix" ? "subdir" : "prefix");
  const data = await readInputs(inputs, layout);
  const store = await openStore(opts.root, storeOptions(opts), opts.createRoot ?? true);

  const lock = await lockProject(store, project, "release", { version, recover: opts.recover });
  const placed: string[] = [];
  try {
    if (await store.stat(keys.manifest)) fail(E_EXISTS, `version "${version}" of ${project} is already published (${store.where(keys.manifest)} exists); publish a new version instead`);
    if (await store.stat(other.manifest)) fail(E_EXISTS, `version "${version}" of ${project} is already published in the other layout (${store.where(other.manifest)} exists)`);
    for (const f of keys.files) {
      if (await store.stat(f.key)) fail(E_EXISTS, `${store.where(f.key)} already exists: version "${version}" of ${project} would overwrite it; publish a new version instead`);
    }
    // From here on a kill leaves objects that only this release made: the lock says which.
    await lock.update({ undo: [keys.manifest, ...keys.files.map((f) => f.key)] });
    const seq = highestSeq((await listReleases(store, project)).versions) + 1;

    // 1. The files.
    const totalBytes = data.reduce((a, b) => a + b.length, 0);
    let doneBytes = 0;
    const entries = [];
    for (let i = 0; i < inputs.length; i++) {
      entries.push(manifestFile(inputs[i].name, digestBytes(data[i])));
      await store.putIfAbsent(keys.files[i].key, data[i], "file");
      placed.push(keys.files[i].key);
      doneBytes += data[i].length;
      opts.onProgress?.({ name: inputs[i].name, fileBytes: data[i].length, fileSize: data[i].length, doneBytes, totalBytes });
    }
    // 2. The manifest.
    const manifest = buildManifest({ project, version, seq, files: entries }, opts.key);
    await store.putIfAbsent(keys.manifest, Buffer.from(manifestText(manifest)), "manifest");
    placed.push(keys.manifest);
    // 3. Last, the version: from now on devices install this release.
    await store.put(versionKey(project), Buffer.from(version), "version");
    return {
      project, version, layout, seq, manifest,
      manifestPath: store.where(keys.manifest),
      versionPath: store.where(versionKey(project)),
      files: keys.files.map((f) => ({ name: f.name, path: store.where(f.key) })),
      recovered: lock.recovered,
      cleaned: lock.cleaned,
    };
  } catch (e: any) {
    for (const k of placed.reverse()) await store.delete(k).catch(() => {});
    if (layout == "subdir") await store.removeDir(keys.dir).catch(() => {});
    if (e instanceof OtaError && e.code == E_EXISTS && placed.length) {
      throw new OtaError(E_EXISTS, `version "${version}" of ${project} was published by someone else meanwhile: ${e.message}`);
    }
    throw e;
  } finally {
    await lock.release();
  }
}
