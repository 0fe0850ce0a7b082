// The store in a local folder (a static server's root). Every key is checked lexically
// (no "..", no empty segment) and then walked one component at a time without following
// symlinks: a symlink anywhere below the root is refused (ESYMLINK), so nothing a manifest
// or a planted link names can make the publisher read, write or delete outside the root.
// (The root itself may be a symlink: it is resolved once, when the store opens.)
// Writes keep the atomic publish: a temporary name in the same folder, flushed, then a
// no-clobber link (new objects) or a rename (replacements).
// Node has no openat(), so a folder swapped for a symlink between the check and the use
// is not caught; that takes write access to the root, which already allows anything.
import { promises as fsp, constants as fsc } from "node:fs";
import * as path from "node:path";
import { E_SYMLINK, E_EXISTS, E_MISSING } from "../../modules/formats.ts";
import { fail } from "./errors.ts";
import { localPath } from "./paths.ts";
import { writeFileAtomic, writeFileNoClobber, tempOwner, processAlive } from "./atomic.ts";
import type { Store, StoredObject } from "./store.ts";

const absent = (e: any) => e && (e.code == "ENOENT" || e.code == "ENOTDIR");

class LocalStore implements Store {
  constructor(readonly url: string) {}

  where(key: string): string {
    return path.join(this.url, ...key.split("/"));
  }

  // The local path of `key`, after checking that no existing component below the root is
  // a symlink.
  private async resolve(key: string): Promise<string> {
    const abs = localPath(this.url, key);
    const segs = key.split("/");
    let cur = this.url;
    for (let i = 0; i < segs.length; i++) {
      cur = path.join(cur, segs[i]);
      let st;
      try {
        st = await fsp.lstat(cur);
      } catch (e: any) {
        if (absent(e)) return abs;
        throw e;
      }
      if (st.isSymbolicLink()) {
        fail(E_SYMLINK, `${cur} is a symlink: the publisher never follows symlinks below the server root (${segs.slice(0, i + 1).join("/")}); replace it with a real ${i < segs.length - 1 ? "folder" : "file"}`);
      }
      if (i < segs.length - 1 && !st.isDirectory()) return abs; // the key cannot exist
    }
    return abs;
  }

  private async walk(dir: string, visit: (key: string, abs: string, ent: import("node:fs").Dirent) => Promise<void>): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fsp.readdir(await this.resolve(dir), { withFileTypes: true });
    } catch (e: any) {
      if (absent(e)) return;
      throw e;
    }
    for (const ent of entries) {
      const key = dir + "/" + ent.name;
      // Dirent types come from lstat: a symlink is neither a file nor a folder here.
      if (ent.isDirectory()) await this.walk(key, visit);
      else await visit(key, this.where(key), ent);
    }
  }

  async list(dir: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    await this.walk(dir, async (key, abs, ent) => {
      if (!ent.isFile()) return;
      const st = await fsp.lstat(abs).catch(() => undefined);
      if (st?.isFile()) out.push({ key, size: st.size, modified: st.mtime, regular: true });
    });
    return out;
  }

  async read(key: string): Promise<Buffer | undefined> {
    const abs = await this.resolve(key);
    let fh;
    try {
      // O_NONBLOCK: a named pipe put in the root must not hang the publisher.
      fh = await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (e: any) {
      if (absent(e)) return undefined;
      if (e?.code == "ELOOP") fail(E_SYMLINK, `${abs} is a symlink: the publisher never follows symlinks below the server root`);
      throw e;
    }
    try {
      if (!(await fh.stat()).isFile()) fail(E_MISSING, `${abs} is not a regular file`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const abs = await this.resolve(key);
    try {
      const st = await fsp.lstat(abs);
      return { key, size: st.size, modified: st.mtime, regular: st.isFile() };
    } catch (e: any) {
      if (absent(e)) return undefined;
      throw e;
    }
  }

  async putIfAbsent(key: string, body: Buffer): Promise<void> {
    const abs = await this.resolve(key);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    try {
      await writeFileNoClobber(abs, body);
    } catch (e: any) {
      if (e?.code == "EEXIST") fail(E_EXISTS, `${abs} already exists`);
      throw e;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const abs = await this.resolve(key);
    await writeFileAtomic(abs, body);
  }

  async delete(key: string): Promise<void> {
    const abs = await this.resolve(key);
    await fsp.unlink(abs).catch((e) => {
      if (!absent(e)) throw e;
    });
  }

  async removeDir(dir: string): Promise<void> {
    const abs = await this.resolve(dir);
    await fsp.rmdir(abs).catch(() => {}); // only if empty; a file someone put there stays
  }

  async sweep(dir: string): Promise<string[]> {
    const removed: string[] = [];
    await this.walk(dir, async (key, abs, ent) => {
      const pid = ent.isFile() ? tempOwner(ent.name) : undefined;
      if (pid === undefined || processAlive(pid)) return;
      await fsp.unlink(abs).catch(() => {});
      removed.push(key);
    });
    return removed;
  }
}

export async function openLocalStore(root: string, create = false): Promise<Store> {
  if (create) await fsp.mkdir(root, { recursive: true });
  let real: string;
  try {
    real = await fsp.realpath(root);
  } catch (e: any) {
    if (absent(e)) fail(E_MISSING, `the server root ${root} does not exist; create it first (or check --root)`);
    throw e;
  }
  if (!(await fsp.stat(real)).isDirectory()) fail(E_MISSING, `the server root ${root} is not a folder`);
  return new LocalStore(real);
}
