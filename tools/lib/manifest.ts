// Builds, serialises and reads release manifests (format: modules/formats.ts).
import { promises as fsp } from "node:fs";
import { canonical, versionError, nameError, type ManifestFile } from "../../modules/formats.ts";
import { hmacSha256, hmacSha1, type Key } from "./digest.ts";
import { fail, E_MANIFEST, E_MISSING } from "./errors.ts";

export interface Manifest {
  version: string;
  files: ManifestFile[];
  sig?: string; // HMAC-SHA256 hex of canonical(version, files)
  // HMAC-SHA1 hex of the same canonical text, under the same key: for boards whose
  // firmware has only SHA-1 (ESP8266_4MB), which verify "sig1" instead of "sig".
  sig1?: string;
}

export function buildManifest(version: string, files: ManifestFile[], key?: Key): Manifest {
  const m: Manifest = { version, files };
  if (key !== undefined) {
    const text = canonical(version, files);
    m.sig = hmacSha256(key, text);
    m.sig1 = hmacSha1(key, text);
  }
  return m;
}

// Compact JSON, key order as in formats.ts, so devices parse it with little RAM.
export function manifestJson(m: Manifest): string {
  const files = m.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, sha1: f.sha1, crc32: f.crc32 }));
  const out: Manifest = { version: m.version, files };
  if (m.sig !== undefined) out.sig = m.sig;
  if (m.sig1 !== undefined) out.sig1 = m.sig1;
  return JSON.stringify(out);
}

const HEX = /^[0-9a-f]+$/;

// Checks the shape of parsed manifest JSON; returns why it is not a manifest or "".
export function manifestError(m: any): string {
  if (!m || typeof m != "object") return "is not a JSON object";
  if (typeof m.version != "string" || versionError(m.version)) return "has no valid \"version\"";
  if (!Array.isArray(m.files)) return "has no \"files\" array";
  for (const f of m.files) {
    if (!f || typeof f.name != "string" || nameError(f.name)) return "lists a file without a valid \"name\"";
    if (!Number.isInteger(f.size) || f.size < 0) return `gives file "${f.name}" no valid "size"`;
    if (typeof f.sha256 != "string" || f.sha256.length != 64 || !HEX.test(f.sha256)) return `gives file "${f.name}" no valid "sha256"`;
    if (typeof f.sha1 != "string" || f.sha1.length != 40 || !HEX.test(f.sha1)) return `gives file "${f.name}" no valid "sha1"`;
    if (!Number.isInteger(f.crc32) || f.crc32 < 0 || f.crc32 > 0xffffffff) return `gives file "${f.name}" no valid "crc32"`;
  }
  return "";
}

// Reads and checks the manifest at `file`; `version`, if given, must match its "version".
export async function readManifest(file: string, version?: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fsp.readFile(file, "utf8");
  } catch (e: any) {
    if (e && e.code == "ENOENT") fail(E_MISSING, `manifest ${file} does not exist`);
    throw e;
  }
  let m: any;
  try {
    m = JSON.parse(text);
  } catch {
    fail(E_MANIFEST, `manifest ${file} is not valid JSON`);
  }
  const err = manifestError(m);
  if (err) fail(E_MANIFEST, `manifest ${file} ${err}`);
  if (version !== undefined && m.version !== version) fail(E_MANIFEST, `manifest ${file} is for version "${m.version}", not "${version}"`);
  return m as Manifest;
}
