// A self-signed TLS certificate for `serve --tls`, generated at run time (pure JS via
// the selfsigned package, no openssl binary needed) and cached under os.tmpdir() so
// devices that pin it keep working across restarts until it expires.
import { promises as fsp } from "node:fs";
import { X509Certificate, createHash } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "./atomic.ts";

export interface TlsPair {
  cert: string; // PEM
  key: string; // PEM
  certPath: string;
  keyPath: string;
}

export const TLS_DIR = path.join(os.tmpdir(), "espruino-ota-tls");
const DAY = 24 * 3600 * 1000;

function sans(hosts: string[]): { type: 2 | 7; value?: string; ip?: string }[] {
  const out: { type: 2 | 7; value?: string; ip?: string }[] = [];
  for (const h of hosts) {
    if (/^[0-9.]+$/.test(h) || h.indexOf(":") >= 0) out.push({ type: 7, ip: h });
    else out.push({ type: 2, value: h });
  }
  return out;
}

async function valid(certPath: string, keyPath: string): Promise<TlsPair | undefined> {
  try {
    const [cert, key] = await Promise.all([fsp.readFile(certPath, "utf8"), fsp.readFile(keyPath, "utf8")]);
    const x = new X509Certificate(cert);
    if (new Date(x.validTo).getTime() < Date.now() + DAY) return undefined; // about to expire
    return { cert, key, certPath, keyPath };
  } catch {
    return undefined;
  }
}

// Returns the cached certificate for `hosts` (names and IPs it must be valid for),
// generating an RSA-2048/SHA-256 one (valid ~10 years: boards have no way to renew)
// the first time. RSA rather than EC because every mbedTLS build on ESP32 has it.
export async function selfSignedCert(hosts: string[] = ["localhost", "127.0.0.1", "::1"], dir = TLS_DIR): Promise<TlsPair> {
  const list = [...new Set(hosts)].sort();
  const id = createHash("sha256").update(list.join(",")).digest("hex").slice(0, 12);
  const certPath = path.join(dir, `cert-${id}.pem`);
  const keyPath = path.join(dir, `key-${id}.pem`);
  const cached = await valid(certPath, keyPath);
  if (cached) return cached;
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
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
  // Key first, so a cert on disk always has its key.
  await writeFileAtomic(keyPath, pems.private, 0o600);
  await writeFileAtomic(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath, keyPath };
}
