// A self-signed TLS certificate for `serve --tls`, generated at run time (pure JS via
// the selfsigned package, no openssl binary needed) and cached, so devices that pin it
// keep working across restarts until it expires.
//
// The cache is a private folder of the user (0700, owned by them; default
// $XDG_CACHE_HOME/espruino-ota/tls, else ~/.cache/espruino-ota/tls), never the shared temp
// folder: whoever can put a certificate and key where the server looks for them can read
// and change every answer to the boards. A folder, certificate or key that anyone but the
// user could have written is refused, not used.
import { promises as fsp, constants as fsc } from "node:fs";
import { X509Certificate, createHash } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { E_INSECURE } from "../../modules/formats.ts";
import { fail } from "./errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { writeSecretFile } from "./secret.ts";

export interface TlsPair {
  cert: string; // PEM
  key: string; // PEM
  certPath: string;
  keyPath: string;
}

const DAY = 24 * 3600 * 1000;

// Where the generated certificates live unless a caller names another folder.
export function defaultTlsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(cache, "espruino-ota", "tls");
}

function sans(hosts: string[]): { type: 2 | 7; value?: string; ip?: string }[] {
  const out: { type: 2 | 7; value?: string; ip?: string }[] = [];
  for (const h of hosts) {
    if (/^[0-9.]+$/.test(h) || h.indexOf(":") >= 0) out.push({ type: 7, ip: h });
    else out.push({ type: 2, value: h });
  }
  return out;
}

function uid(): number | undefined {
  return process.getuid?.(); // undefined on Windows, where modes and owners mean little
}

// Refuses `st` (of `p`) unless only this user could have written it: owned by the user,
// and not writable by group or others (a folder: not even readable by them).
function checkPrivate(p: string, st: import("node:fs").Stats, folder: boolean): void {
  const me = uid();
  if (me === undefined) return;
  const what = folder ? "folder" : "file";
  const fix = `delete it (or use another folder) and run again`;
  if (st.isSymbolicLink()) fail(E_INSECURE, `TLS ${what} ${p} is a symlink, which anyone who could write its folder could have placed: ${fix}`);
  if (folder ? !st.isDirectory() : !st.isFile()) fail(E_INSECURE, `TLS ${what} ${p} is not a ${folder ? "directory" : "regular file"}: ${fix}`);
  if (st.uid !== me) fail(E_INSECURE, `TLS ${what} ${p} belongs to uid ${st.uid}, not to this user (uid ${me}), so they could have written it: ${fix}`);
  const open = st.mode & (folder ? 0o077 : 0o022);
  if (open) fail(E_INSECURE, `TLS ${what} ${p} has mode ${(st.mode & 0o777).toString(8)}: others could have written it; it must be ${folder ? "0700" : "0600 or 0644"}: ${fix}`);
}

// Creates `dir` (0700) if it is missing, then refuses it unless it is private.
async function privateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  checkPrivate(dir, await fsp.lstat(dir), true);
}

// The PEM text of `p`, read without following a symlink, after checking the open file.
async function readPrivate(p: string): Promise<string> {
  const fh = await fsp.open(p, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0)).catch((e) => {
    if (e?.code == "ELOOP") fail(E_INSECURE, `TLS file ${p} is a symlink, which is not followed: delete it (or use another folder) and run again`);
    throw e;
  });
  try {
    checkPrivate(p, await fh.stat(), false);
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

async function cached(certPath: string, keyPath: string): Promise<TlsPair | undefined> {
  let cert: string, key: string;
  try {
    [cert, key] = await Promise.all([readPrivate(certPath), readPrivate(keyPath)]);
  } catch (e: any) {
    if (e?.code === E_INSECURE) throw e;
    return undefined; // missing or unreadable: make a new one
  }
  try {
    const x = new X509Certificate(cert);
    if (new Date(x.validTo).getTime() < Date.now() + DAY) return undefined; // about to expire
  } catch {
    return undefined;
  }
  return { cert, key, certPath, keyPath };
}

// Returns the cached certificate for `hosts` (names and IPs it must be valid for),
// generating an RSA-2048/SHA-256 one (valid ~10 years: boards have no way to renew)
// the first time. RSA rather than EC because every mbedTLS build on ESP32 has it.
export async function selfSignedCert(hosts: string[] = ["localhost", "127.0.0.1", "::1"], dir = defaultTlsDir()): Promise<TlsPair> {
  const list = [...new Set(hosts)].sort();
  const id = createHash("sha256").update(list.join(",")).digest("hex").slice(0, 12);
  const certPath = path.join(dir, `cert-${id}.pem`);
  const keyPath = path.join(dir, `key-${id}.pem`);
  await privateDir(dir);
  const found = await cached(certPath, keyPath);
  if (found) return found;
  const mod: any = await import("selfsigned");
  const generate: typeof import("selfsigned").generate = mod.generate ?? mod.default.generate;
  const now = new Date(Date.now() - DAY);
  const pems = await generate([{ name: "commonName", value: "espruino-ota dev server" }], {
    keyType: "rsa",
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 3650 * DAY),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: sans(list) },
    ],
  });
  // Key first, so a cert on disk always has its key; the key is for this user only.
  await writeSecretFile(keyPath, pems.private);
  await writeFileAtomic(certPath, pems.cert, 0o644);
  return { cert: pems.cert, key: pems.private, certPath, keyPath };
}
