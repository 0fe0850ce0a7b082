// `list`: the live version of a project and every release published below the server
// root, found by their manifests in both layouts.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { MANIFEST, versionError, type ManifestFile } from "../modules/formats.ts";
import { checkProject, localPath, releasePaths, versionFile, type Layout } from "./lib/paths.ts";
import { readManifest } from "./lib/manifest.ts";
import { TMP_PREFIX } from "./lib/atomic.ts";
import { fail } from "./lib/errors.ts";
import { E_OPTS } from "../modules/formats.ts";

export interface ListOptions {
  root: string;
  project: string;
}

export interface ListedVersion {
  version: string;
  layout: Layout;
  files: ManifestFile[];
  seq: number;
  published: Date; // when its manifest was written
  signed: boolean;
  manifestPath: string;
}

export interface ListResult {
  live: string | undefined; // content of <project>/version, if any
  versions: ListedVersion[]; // oldest first
  skipped: { path: string; reason: string }[]; // manifests that could not be read
}

// The version the server currently offers: the version file's text, trimmed of
// surrounding whitespace (a hand-edited file often ends in a newline).
export async function readLive(root: string, project: string): Promise<string | undefined> {
  try {
    return (await fsp.readFile(versionFile(root, project), "utf8")).trim();
  } catch (e: any) {
    if (e && (e.code == "ENOENT" || e.code == "ENOTDIR")) return undefined;
    throw e;
  }
}

export async function list(opts: ListOptions): Promise<ListResult> {
  const root = path.resolve(opts.root ?? fail(E_OPTS, "no root given"));
  const project = checkProject(opts.project);
  const dir = localPath(root, project);
  const live = await readLive(root, project);
  const versions: ListedVersion[] = [];
  const skipped: { path: string; reason: string }[] = [];
  let entries: import("node:fs").Dirent[] = [];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e: any) {
    if (!e || e.code != "ENOENT") throw e;
  }
  const suffix = "_" + MANIFEST;
  const candidates: { version: string; layout: Layout }[] = [];
  for (const ent of entries) {
    if (ent.name.startsWith(TMP_PREFIX)) continue;
    if (ent.isFile() && ent.name.endsWith(suffix)) {
      const v = ent.name.slice(0, -suffix.length);
      if (!versionError(v)) candidates.push({ version: v, layout: "prefix" });
    } else if (ent.isDirectory() && !versionError(ent.name) && ent.name != "." && ent.name != "..") {
      candidates.push({ version: ent.name, layout: "subdir" });
    }
  }
  for (const c of candidates) {
    const mpath = releasePaths(root, project, c.version, [], c.layout).manifest.abs;
    let st;
    try {
      st = await fsp.stat(mpath);
    } catch {
      continue; // a subdirectory without a manifest is not a release
    }
    try {
      const m = await readManifest(mpath, c.version);
      versions.push({
        version: c.version, layout: c.layout, files: m.files, seq: m.seq, published: st.mtime,
        signed: m.sig !== undefined || m.sig1 !== undefined, manifestPath: mpath,
      });
    } catch (e: any) {
      skipped.push({ path: mpath, reason: e.message });
    }
  }
  versions.sort((a, b) => a.published.getTime() - b.published.getTime() || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { live, versions, skipped };
}
