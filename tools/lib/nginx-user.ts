// The unprivileged user nginx's workers run as when nginx is started as root, and whether
// that user can reach what the workers read: the release root and the htpasswd file (the
// master, still root, reads the config, the certificate and its key, and opens the logs).
import { spawnSync } from "node:child_process";
import { realpathSync, statSync, type Stats } from "node:fs";
import * as path from "node:path";
import { E_OPTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";

export interface WorkerUser {
  name: string;
  group: string; // primary group's name
  uid: number;
  gid: number;
  gids: number[]; // every group the user is in
}

// `id <name>` (through NSS, so LDAP users work too), or undefined if there is no such user.
function lookup(name: string): WorkerUser | undefined {
  const r = spawnSync("id", [name], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  const m = r.status === 0 ? /^uid=(\d+)\(([^)]*)\) gid=(\d+)\(([^)]*)\)(?: groups=(.*))?$/.exec(r.stdout.trim()) : null;
  if (!m) return undefined;
  const gids = (m[5] ?? "").split(",").map((g) => parseInt(g, 10)).filter((g) => !isNaN(g));
  return { name: m[2], uid: Number(m[1]), gid: Number(m[3]), group: m[4], gids: gids.length ? gids : [Number(m[3])] };
}

// The named user, or Debian's web server user www-data, else nobody. Never root: a worker
// runs the code that parses what the network sends.
export function workerUser(name?: string): WorkerUser {
  const u = name !== undefined ? lookup(name) : lookup("www-data") ?? lookup("nobody");
  if (!u) fail(E_OPTS, name !== undefined ? `worker user "${name}" does not exist` : `neither www-data nor nobody exists: name the user nginx's workers run as`);
  if (u.uid === 0) fail(E_OPTS, `worker user "${u.name}" is root: nginx's workers must run unprivileged`);
  return u;
}

function allows(st: Stats, u: WorkerUser, bits: number): boolean {
  const shift = st.uid === u.uid ? 6 : u.gids.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

const HINT = "(never root), so make it readable to them (chmod o+x on folders, o+r on files) or name another worker user";

// Refuses unless `u` may search `folder` and every folder above it.
export function checkReachableBy(folder: string, u: WorkerUser, what: string): void {
  for (let p = realpathSync(path.resolve(folder)); ; p = path.dirname(p)) {
    if (!allows(statSync(p), u, 1)) fail(E_OPTS, `${u.name} cannot reach the ${what}: no search permission on ${p}; nginx's workers run as ${u.name} ${HINT}`);
    if (p == path.dirname(p)) break;
  }
}

// Refuses unless `u` can reach `target` and read it (a folder: read and search).
export function checkReadableBy(target: string, u: WorkerUser, what: string): void {
  const real = realpathSync(path.resolve(target));
  checkReachableBy(path.dirname(real), u, `${what} ${target}`);
  const st = statSync(real);
  if (!allows(st, u, st.isDirectory() ? 5 : 4)) {
    fail(E_OPTS, `${u.name} cannot read the ${what} ${target} (mode ${(st.mode & 0o777).toString(8)}); nginx's workers run as ${u.name} ${HINT}`);
  }
}
