// Builds, serialises and reads release manifests (format: modules/formats.ts).
import { promises as fsp } from "node:fs";
import { canonical, manifestError, type ManifestFile } from "../../modules/formats.ts";

export { manifestError };
import { hmacSha256, hmacSha1, type Key } from "./digest.ts";
import { fail, E_MANIFEST, E_MISSING } from "./errors.ts";

export interface Manifest {
  project?: string; // the project it was released for: signed, so it cannot be moved to another
  version: string;
  seq?: number; // release sequence number within the project: signed, so an old release cannot be replayed
  files: ManifestFile[];
  sig?: string; // HMAC-SHA256 hex of canonical(version, files)
  // HMAC-SHA1 hex of the same canonical text, under the same key: for boards whose
  // firmware has only SHA-1 (ESP8266_4MB), which verify "sig1" instead of "sig".
  sig1?: string;
}

export function buildManifest(release: { project?: string; version: string; seq?: number; files: ManifestFile[] }, key?: Key): Manifest {
  const { version, files } = release;
  const m: Manifest = { version, files };
  // publish: carried so that a re-read manifest tells its project and seq (not yet signed:
  // the lead's signed text format covers them).
  if (release.project !== undefined) m.project = release.project;
  if (release.seq !== undefined) m.seq = release.seq;
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
  if (m.project !== undefined) out.project = m.project; // publish: see buildManifest
  if (m.seq !== undefined) out.seq = m.seq;
  if (m.sig !== undefined) out.sig = m.sig;
  if (m.sig1 !== undefined) out.sig1 = m.sig1;
  return JSON.stringify(out);
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
  return parseManifest(text, file, version);
}

// publish: checks the manifest text read from `file` (a path or an object store URL, for
// messages); `version`, if given, must match its "version".
export function parseManifest(text: string, file: string, version?: string): Manifest {
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
