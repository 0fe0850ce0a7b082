// The keys of a project's objects below a server root (URL paths, "/"-separated, as
// formats.ts builds them) and the rules that keep them inside the root: the board's rules
// for names, versions and projects, counted where the board counts them, plus the few a
// static server adds.
import * as path from "node:path";
import {
  filePath, nameError, projectError, versionError, MANIFEST, VERSION_FILE, E_NAME, E_OPTS, E_VERSION, LAYOUTS,
} from "../../modules/formats.ts";
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
// (Lexically only: the local store also refuses symlinks on the way.)
export function localPath(root: string, rel: string, code = E_OPTS, what = "path"): string {
  const err = relPathError(rel);
  if (err) fail(code, `${what} "${rel}" ${err}`);
  const abs = path.resolve(root, ...rel.split("/"));
  const base = path.resolve(root);
  if (abs != base && !abs.startsWith(base + path.sep)) fail(code, `${what} "${rel}" is outside the server root`);
  return abs;
}

// A project is a folder below the root and goes into every device URL unescaped.
export function checkProject(project: string | undefined): string {
  if (!project) fail(E_OPTS, "no project given");
  const err = projectError(project);
  if (err) fail(E_OPTS, `project "${project}" ${err}`);
  return project;
}

// Storage names are bytes: the board counts a name's UTF-8 bytes against its 28, so the
// rule of formats.ts is applied to those bytes (one latin1 character per byte).
export function storageNameError(name: string): string {
  return nameError(Buffer.from(name, "utf8").toString("latin1"));
}

// Why `name` cannot be a file of a release published in `layout`, or "". The board's
// rules first; the rest keep one name one object on a static server.
export function releaseNameError(name: string, layout: Layout): string {
  const err = storageNameError(name);
  if (err) return err;
  if (name.indexOf("/") >= 0 || name.indexOf("\\") >= 0) return "holds a slash, which static servers cannot serve as one file";
  if (name == "." || name == "..") return "is not a file name";
  if (name == MANIFEST) return "is the name of the release manifest";
  // "<ver>_x_manifest.txt" would look like the manifest of version "<ver>_x".
  if (layout == "prefix" && name.endsWith("_" + MANIFEST)) return `ends in "_${MANIFEST}", which the prefix layout reserves for manifests`;
  return "";
}

// Why `version` cannot be published in `layout`, or "". The board's rule (versionError),
// and: a leading "." would make a hidden file or folder, which servers refuse to serve
// (nginx and serve deny dotfiles), and publishing tools' own temporary names start so.
export function releaseVersionError(version: string, layout: Layout): string {
  const err = versionError(version);
  if (err) return err;
  if (version.charAt(0) == ".") return "starts with \".\", which would make a hidden file that servers do not serve";
  if (layout == "subdir" && version == VERSION_FILE) return `would clash with the ${VERSION_FILE} file in the subdir layout`;
  return "";
}

export function checkVersion(version: string, layout: Layout): string {
  const err = releaseVersionError(version, layout);
  if (err) fail(E_VERSION, `version "${version}" ${err}`);
  return version;
}

// Keys of one release's files and manifest (formats.filePath), checked to stay below the root.
export interface ReleaseKeys {
  files: { name: string; key: string }[];
  manifest: string;
  dir: string; // the key of the folder that holds the release (project or version subfolder)
}

export function releaseKeys(project: string, version: string, names: string[], layout: Layout): ReleaseKeys {
  const manifest = filePath(project, version, MANIFEST, layout);
  const err = relPathError(manifest);
  if (err) fail(E_VERSION, `version "${version}" would put its manifest at "${manifest}", which ${err}`);
  const files = names.map((name) => {
    const why = releaseNameError(name, layout);
    if (why) fail(E_NAME, `file name "${name}" ${why}`);
    return { name, key: filePath(project, version, name, layout) };
  });
  return { files, manifest, dir: manifest.slice(0, manifest.lastIndexOf("/")) };
}

export function versionKey(project: string): string {
  return project + "/" + VERSION_FILE;
}

// Which release a key below <project>/ names the manifest of, if any.
export function manifestOf(project: string, key: string): { version: string; layout: Layout } | undefined {
  if (!key.startsWith(project + "/")) return undefined;
  const rest = key.slice(project.length + 1);
  const slash = rest.indexOf("/");
  if (slash < 0) {
    const suffix = "_" + MANIFEST;
    return rest.endsWith(suffix) ? { version: rest.slice(0, -suffix.length), layout: "prefix" } : undefined;
  }
  return rest.slice(slash + 1) == MANIFEST ? { version: rest.slice(0, slash), layout: "subdir" } : undefined;
}
