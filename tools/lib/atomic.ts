// Publishing files atomically: write to a temporary name in the destination directory,
// flush, then move into place, so a reader sees either no file or the whole file.
import { promises as fsp, constants as fsc } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

// Temporary names start with this, so list/prune/serve can tell them apart.
export const TMP_PREFIX = ".ota-tmp-";

export function tempPathFor(dest: string): string {
  return path.join(path.dirname(dest), `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}-${path.basename(dest)}`);
}

// The id of the process that wrote temporary file `name` (a base name), if it is one.
export function tempOwner(name: string): number | undefined {
  const m = name.startsWith(TMP_PREFIX) ? /^(\d+)-[0-9a-f]{12}-/.exec(name.slice(TMP_PREFIX.length)) : null;
  return m ? Number(m[1]) : undefined;
}

// Whether process `pid` runs on this machine (EPERM: it does, as another user).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e?.code == "EPERM";
  }
}

async function writeSynced(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const fh = await fsp.open(file, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// Writes `data` to `dest`, replacing any old file atomically.
export async function writeFileAtomic(dest: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  try {
    await writeSynced(tmp, data, mode);
    await fsp.rename(tmp, dest);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(dest));
}

// Writes `data` to `dest` only if `dest` does not exist (EEXIST otherwise): a reader sees
// no file or the whole file, and an existing file is never replaced.
export async function writeFileNoClobber(dest: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(dest);
  try {
    await writeSynced(tmp, data, mode);
    await moveNoClobber(tmp, dest);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await syncDir(path.dirname(dest));
}

// Moves finished temporary file `tmp` to `dest` without replacing an existing `dest`
// (a hard link fails with EEXIST); falls back to rename where links are unsupported.
export async function moveNoClobber(tmp: string, dest: string): Promise<void> {
  try {
    await fsp.link(tmp, dest);
    await fsp.unlink(tmp);
  } catch (e: any) {
    if (e && (e.code == "EPERM" || e.code == "ENOTSUP" || e.code == "EXDEV" || e.code == "ENOSYS")) {
      await fsp.access(dest, fsc.F_OK).then(
        () => { throw Object.assign(new Error(`${dest} exists`), { code: "EEXIST" }); },
        () => fsp.rename(tmp, dest),
      );
    } else throw e;
  }
}

// Best effort: makes the renames in `dir` durable (not supported everywhere).
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, "r");
    try { await fh.sync(); } finally { await fh.close(); }
  } catch { /* not all platforms can fsync a directory */ }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}
