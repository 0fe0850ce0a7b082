// Maps the URL paths of formats.ts (filePath, version file) onto files below a server
// root, refusing anything that would land outside it.
import * as path from "node:path";
import { filePath, MANIFEST, VERSION_FILE, E_NAME, E_OPTS, E_VERSION, LAYOUTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";

export type Layout = "prefix" | "subdir";

export function checkLayout(layout: string | undefined): Layout {
  const l = layout ?? "prefix";
  if (LAYOUTS.indexOf(l) < 0) fail(E_OPTS, `layout "${l}" is not one of ${LAYOUTS.join(", ")}`);
  return l as Layout;
}

// Why the URL path `rel` (segments separated by "/") cannot be a file below a server
// root, or "" if it can: no empty, "." or ".." segment, no backslash or NUL.
export function relPathError(rel: string): string {
  if (rel.indexOf("\0") >= 0) return "holds a NUL character";
  if (rel.indexOf("\\") >= 0) return "holds a backslash";
  for (const seg of rel.split("/")) {
    if (seg == "") return "has an empty path segment";
    if (seg == "." || seg == "..") return `has a "${seg}" path segment`;
  }
  return "";
}

// Absolute local path of URL path `rel` below `root`; throws `code` if it would escape.
export function localPath(root: string, rel: string, code = E_OPTS, what = "path"): string {
  const err = relPathError(rel);
  if (err) fail(code, `${what} "${rel}" ${err}`);
  const abs = path.resolve(root, ...rel.split("/"));
  const base = path.resolve(root);
  if (abs != base && !abs.startsWith(base + path.sep)) fail(code, `${what} "${rel}" is outside the server root`);
  return abs;
}

export function checkProject(project: string | undefined): string {
  if (!project) fail(E_OPTS, "no project given");
  const err = relPathError(project);
  if (err) fail(E_OPTS, `project "${project}" ${err}`);
  return project;
}

// Local paths of one release's files and manifest, via formats.filePath.
export interface ReleasePaths {
  files: { name: string; rel: string; abs: string }[];
  manifest: { rel: string; abs: string };
  dir: string; // the directory that holds the release (project dir or version subdir)
}

export function releasePaths(root: string, project: string, version: string, names: string[], layout: Layout): ReleasePaths {
  // The manifest first: a bad version (e.g. ".." in the subdir layout) is a version error.
  const mrel = filePath(project, version, MANIFEST, layout);
  const mabs = localPath(root, mrel, E_VERSION, `version "${version}" would put its manifest at`);
  const files = names.map((name) => {
    const rel = filePath(project, version, name, layout);
    return { name, rel, abs: localPath(root, rel, E_NAME, `file "${name}" would be stored as`) };
  });
  return { files, manifest: { rel: mrel, abs: mabs }, dir: path.dirname(mabs) };
}

export function versionFile(root: string, project: string): string {
  return localPath(root, project + "/" + VERSION_FILE);
}
