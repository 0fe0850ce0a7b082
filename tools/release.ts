// `release`: publishes the files of one version below a static server root, in either of
// micropython_ota's layouts, with a manifest, and makes it live by writing
// <project>/version last.
//
// Publish order, each step atomic (temporary name in the same directory, then rename):
//   1. every file of the release, 2. the manifest, 3. <project>/version.
// A device polling the version file during a release therefore never sees a version
// whose files or manifest are not all complete.
import { promises as fsp, createReadStream } from "node:fs";
import * as path from "node:path";
import { versionError, nameError, MANIFEST, E_VERSION, E_NAME, E_OPTS } from "../modules/formats.ts";
import { FileDigest, manifestFile, type Key } from "./lib/digest.ts";
import { buildManifest, manifestText, type Manifest } from "./lib/manifest.ts";
import { list } from "./list.ts";
import { checkLayout, checkProject, releasePaths, versionFile, type Layout } from "./lib/paths.ts";
import { tempPathFor, moveNoClobber, writeFileAtomic, syncDir, exists } from "./lib/atomic.ts";
import { fail, OtaError, E_EXISTS, E_MISSING, E_DUPLICATE } from "./lib/errors.ts";

export interface ReleaseFile {
  name: string; // Storage name on the board
  path: string; // local input file
}

export interface ReleaseProgress {
  name: string; // Storage name of the file being copied
  fileBytes: number; // bytes of this file copied so far
  fileSize: number;
  doneBytes: number; // bytes of the whole release copied so far
  totalBytes: number;
}

export interface ReleaseOptions {
  root: string; // server root directory
  project: string;
  version: string;
  layout?: Layout | string; // "prefix" (default) or "subdir"
  key?: Key; // signing key bytes (a string is taken as UTF-8); adds "sig" and "sig1"
  files: (ReleaseFile | string)[]; // a plain string is an input path; its basename is the name
  onProgress?: (p: ReleaseProgress) => void;
}

export interface ReleaseResult {
  project: string;
  version: string;
  layout: Layout;
  manifest: Manifest;
  manifestPath: string;
  versionPath: string;
  files: { name: string; path: string }[]; // published paths
}

// CLI file argument: "name=path" names the Storage file; otherwise the basename is used.
// An argument that is itself an existing file is taken as a plain path even if it holds "=".
export function parseFileSpec(spec: string, isFile: (p: string) => boolean = () => false): ReleaseFile {
  const eq = spec.indexOf("=");
  if (eq > 0 && !isFile(spec)) return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { name: path.basename(spec), path: spec };
}

export function normalizeFiles(files: (ReleaseFile | string)[]): ReleaseFile[] {
  return files.map((f) => (typeof f == "string" ? { name: path.basename(f), path: f } : { name: f.name, path: f.path }));
}

// Why `name` cannot be a file of a release published in `layout`, or "".
// The board's rules come from formats.nameError; the rest keep the server side sound.
export function releaseNameError(name: string, layout: Layout): string {
  const err = nameError(name);
  if (err) return err;
  if (name.indexOf("/") >= 0 || name.indexOf("\\") >= 0) return "holds a slash, which static servers cannot serve as one file";
  if (name == "." || name == "..") return "is not a file name";
  if (name == MANIFEST) return "is the name of the release manifest";
  // "<ver>_x_manifest.json" would look like the manifest of version "<ver>_x".
  if (layout == "prefix" && name.endsWith("_" + MANIFEST)) return `ends in "_${MANIFEST}", which the prefix layout reserves for manifests`;
  return "";
}

async function copyHashing(
  src: string, dest: string, onChunk: (n: number) => void,
): Promise<FileDigest> {
  const d = new FileDigest();
  const fh = await fsp.open(dest, "wx", 0o644);
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 16 })) {
      d.update(chunk as Buffer);
      await fh.write(chunk as Buffer);
      onChunk((chunk as Buffer).length);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return d;
}

export async function release(opts: ReleaseOptions): Promise<ReleaseResult> {
  const root = path.resolve(opts.root ?? fail(E_OPTS, "no root given"));
  const project = checkProject(opts.project);
  const layout = checkLayout(opts.layout);
  const version = opts.version;
  const verr = versionError(version);
  if (verr) fail(E_VERSION, `version "${version}" ${verr}`);
  if (layout == "subdir" && version == "version") fail(E_VERSION, `version "version" would clash with the version file in the subdir layout`);
  if (!opts.files || opts.files.length == 0) fail(E_OPTS, "a release needs at least one file");
  if (opts.key !== undefined && opts.key.length == 0) fail(E_OPTS, "the signing key is empty");

  const inputs = normalizeFiles(opts.files);
  const seen = new Set<string>();
  for (const f of inputs) {
    const err = releaseNameError(f.name, layout);
    if (err) fail(E_NAME, `file name "${f.name}" ${err}`);
    if (seen.has(f.name)) fail(E_DUPLICATE, `file name "${f.name}" is given twice`);
    seen.add(f.name);
  }
  const sizes: number[] = [];
  for (const f of inputs) {
    let st;
    try {
      st = await fsp.stat(f.path);
    } catch {
      fail(E_MISSING, `input file ${f.path} (for "${f.name}") does not exist`);
    }
    if (!st.isFile()) fail(E_MISSING, `input ${f.path} (for "${f.name}") is not a regular file`);
    sizes.push(st.size);
  }

  const paths = releasePaths(root, project, version, inputs.map((f) => f.name), layout);
  const other = releasePaths(root, project, version, [], layout == "prefix" ? "subdir" : "prefix");
  if (await exists(paths.manifest.abs)) fail(E_EXISTS, `version "${version}" of ${project} is already published (${paths.manifest.rel} exists); publish a new version instead`);
  if (await exists(other.manifest.abs)) fail(E_EXISTS, `version "${version}" of ${project} is already published in the other layout (${other.manifest.rel} exists)`);
  for (const f of paths.files) {
    if (await exists(f.abs)) fail(E_EXISTS, `${f.rel} already exists: version "${version}" of ${project} would overwrite it; publish a new version instead`);
  }

  const versionPath = versionFile(root, project);
  const temps: string[] = [];
  const placed: string[] = [];
  const madeDir = !(await exists(paths.dir));
  try {
    await fsp.mkdir(paths.dir, { recursive: true });
    // 1. Copy every file to a temporary name, computing its digests on the way.
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    let doneBytes = 0;
    const entries = [];
    for (let i = 0; i < inputs.length; i++) {
      const tmp = tempPathFor(paths.files[i].abs);
      temps.push(tmp);
      let fileBytes = 0;
      const d = await copyHashing(inputs[i].path, tmp, (n) => {
        fileBytes += n;
        doneBytes += n;
        opts.onProgress?.({ name: inputs[i].name, fileBytes, fileSize: sizes[i], doneBytes, totalBytes });
      });
      entries.push(manifestFile(inputs[i].name, d.digest()));
    }
    // ...then move them all into place (never over an existing file).
    for (let i = 0; i < inputs.length; i++) {
      await moveNoClobber(temps[i], paths.files[i].abs);
      placed.push(paths.files[i].abs);
    }
    await syncDir(paths.dir);
    // 2. The manifest. Its seq is one above every release of the project, so that a board
    // with a key refuses an older signed release put back on the server.
    const seq = 1 + (await list({ root, project })).versions.reduce((a, v) => Math.max(a, v.seq), 0);
    const manifest = buildManifest({ project, version, seq, files: entries }, opts.key);
    const mtmp = tempPathFor(paths.manifest.abs);
    temps.push(mtmp);
    await fsp.writeFile(mtmp, manifestText(manifest), { flag: "wx", mode: 0o644 });
    await moveNoClobber(mtmp, paths.manifest.abs);
    placed.push(paths.manifest.abs);
    await syncDir(paths.dir);
    // 3. Last, the version file: from now on devices install this release.
    await writeFileAtomic(versionPath, version);
    return {
      project, version, layout, manifest,
      manifestPath: paths.manifest.abs,
      versionPath,
      files: paths.files.map((f) => ({ name: f.name, path: f.abs })),
    };
  } catch (e: any) {
    for (const t of temps) await fsp.rm(t, { force: true });
    for (const p of placed) await fsp.rm(p, { force: true });
    if (madeDir) await fsp.rmdir(paths.dir).catch(() => {});
    if (e instanceof OtaError) throw e;
    if (e && e.code == "EEXIST") throw new OtaError(E_EXISTS, `version "${version}" of ${project} was published by someone else meanwhile: ${e.message}`);
    throw e;
  }
}
