// `rollback`: makes an already published release live again by pointing
// <project>/version at it, after checking that all of its files are there.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { versionError, E_VERSION, E_OPTS } from "../modules/formats.ts";
import { checkLayout, checkProject, releasePaths, versionFile, type Layout } from "./lib/paths.ts";
import { readManifest } from "./lib/manifest.ts";
import { writeFileAtomic, exists } from "./lib/atomic.ts";
import { fail, E_MISSING, E_UNKNOWN_VERSION } from "./lib/errors.ts";
import { readLive } from "./list.ts";

export interface RollbackOptions {
  root: string;
  project: string;
  version: string;
  layout?: Layout | string; // default: the layout its manifest is found in, else "prefix"
  files?: string[]; // Storage names to check when the release has no manifest
}

export interface RollbackResult {
  version: string;
  previous: string | undefined; // what was live before
  layout: Layout;
  files: string[]; // names checked
}

export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
  const root = path.resolve(opts.root ?? fail(E_OPTS, "no root given"));
  const project = checkProject(opts.project);
  const version = opts.version;
  const verr = versionError(version);
  if (verr) fail(E_VERSION, `version "${version}" ${verr}`);

  let layout: Layout | undefined = opts.layout !== undefined ? checkLayout(opts.layout) : undefined;
  const layouts: Layout[] = layout ? [layout] : ["prefix", "subdir"];
  let manifestPath: string | undefined;
  for (const l of layouts) {
    const m = releasePaths(root, project, version, [], l).manifest.abs;
    if (await exists(m)) {
      manifestPath = m;
      layout = l;
      break;
    }
  }
  layout = layout ?? "prefix";

  const expected = new Map<string, number | undefined>(); // name -> size, if known
  if (manifestPath) {
    const m = await readManifest(manifestPath, version);
    for (const f of m.files) expected.set(f.name, f.size);
  } else if (!opts.files || opts.files.length == 0) {
    fail(E_UNKNOWN_VERSION, `version "${version}" of ${project} has no manifest; give the names of its files to check them before rolling back`);
  }
  for (const n of opts.files ?? []) if (!expected.has(n)) expected.set(n, undefined);

  const names = [...expected.keys()];
  const paths = releasePaths(root, project, version, names, layout);
  for (const f of paths.files) {
    let st;
    try {
      st = await fsp.stat(f.abs);
    } catch {
      fail(E_MISSING, `cannot roll back to "${version}": ${f.rel} is missing`);
    }
    if (!st.isFile()) fail(E_MISSING, `cannot roll back to "${version}": ${f.rel} is not a file`);
    const size = expected.get(f.name);
    if (size !== undefined && st.size != size) fail(E_MISSING, `cannot roll back to "${version}": ${f.rel} has ${st.size} bytes, its manifest says ${size}`);
  }

  const previous = await readLive(root, project);
  await writeFileAtomic(versionFile(root, project), version);
  return { version, previous, layout, files: names };
}
