// Where releases are published: a "store" of objects named by keys, the URL paths below
// the server root ("<project>/<ver>_<file>", "<project>/version"). One interface, so that
// release, rollback, list and prune have one code path for a local folder (store-local.ts)
// and for S3-compatible object storage (store-s3.ts).
import { E_OPTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";
import { versionKey } from "./paths.ts";

// What an object is for: the S3 store gives each kind its own Cache-Control and Content-Type.
export type ObjectKind = "file" | "manifest" | "version" | "lock";

export interface StoredObject {
  key: string;
  size: number;
  modified: Date;
  regular: boolean; // false: something other than a plain file (a folder, a pipe) has that name
}

export interface Store {
  readonly url: string; // the root, for messages: a folder path or s3://bucket/prefix
  where(key: string): string; // one object's location, for messages and results
  // Every object whose key starts with `dir` + "/", in any depth. Local: regular files only,
  // never through a symlink.
  list(dir: string): Promise<StoredObject[]>;
  read(key: string): Promise<Buffer | undefined>; // undefined: no such object
  stat(key: string): Promise<StoredObject | undefined>;
  // Writes a new object; EEXIST (E_EXISTS) if `key` exists, and never replaces one.
  putIfAbsent(key: string, body: Buffer, kind: ObjectKind): Promise<void>;
  // Writes or replaces an object; a reader sees the old or the new one, whole.
  put(key: string, body: Buffer, kind: ObjectKind): Promise<void>;
  delete(key: string): Promise<void>; // an absent object is not an error
  removeDir(dir: string): Promise<void>; // a folder that is now empty (S3 has none)
  // Removes temporary objects that publishers which are no longer running left below
  // `dir`; returns their keys. (S3 puts are whole or nothing: none there.)
  sweep(dir: string): Promise<string[]>;
}

export interface StoreOptions {
  endpoint?: string; // S3: the endpoint of an S3-compatible store (MinIO, R2, Spaces, Garage)
  pathStyle?: boolean; // S3: https://endpoint/bucket/key instead of https://bucket.endpoint/key
  versionMaxAge?: number; // S3: seconds the version object may be cached (Cache-Control max-age)
}

export const DEFAULT_VERSION_MAX_AGE = 60;

// The store options among a command's options.
export function storeOptions(o: StoreOptions): StoreOptions {
  return { endpoint: o.endpoint, pathStyle: o.pathStyle, versionMaxAge: o.versionMaxAge };
}

export function isS3Url(root: string): boolean {
  return root.startsWith("s3://");
}

// A store for `root`: a folder (which must exist, unless `create`) or s3://bucket[/prefix].
export async function openStore(root: string | Store | undefined, opts: StoreOptions = {}, create = false): Promise<Store> {
  if (root === undefined || root === "") fail(E_OPTS, "no root given");
  if (typeof root != "string") return root;
  if (isS3Url(root)) {
    const { openS3Store } = await import("./store-s3.ts"); // the SDK loads only when it is used
    return openS3Store(root, opts);
  }
  const given = Object.entries(opts).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length) fail(E_OPTS, `${given.join(", ")} only apply to an s3:// root`);
  const { openLocalStore } = await import("./store-local.ts");
  return openLocalStore(root, create);
}

// The version the server offers for `project`: the version object's text, trimmed of
// surrounding whitespace (a hand-edited file often ends in a newline).
export async function readLive(store: Store, project: string): Promise<string | undefined> {
  return (await store.read(versionKey(project)))?.toString("utf8").trim();
}
