// Builds, signs, serialises and reads release manifests. The format, and what a signature
// covers, are defined once in modules/formats.ts, for the boards and the tools alike.
import { promises as fsp } from "node:fs";
import { signedText, manifestText, parseManifest, type Manifest, type ManifestFile } from "../../modules/formats.ts";
import { hmacSha256, hmacSha1, type Key } from "./digest.ts";
import { fail, E_MANIFEST, E_MISSING } from "./errors.ts";

export type { Manifest, ManifestFile };
export { manifestText };

// The manifest of a release: signed when a key is given.
export function buildManifest(release: { project: string; version: string; seq: number; files: ManifestFile[] }, key?: Key): Manifest {
  const m: Manifest = { project: release.project, version: release.version, seq: release.seq, files: release.files };
  return key === undefined ? m : signManifest(m, key);
}

// The same release under `key` (any earlier signature dropped): "sig" for boards with
// SHA-256, "sig1" for boards whose firmware has only SHA-1 (ESP8266_4MB).
export function signManifest(m: Manifest, key: Key): Manifest {
  const text = signedText(m);
  return { project: m.project, version: m.version, seq: m.seq, files: m.files, sig: hmacSha256(key, text), sig1: hmacSha1(key, text) };
}

// Checks manifest text read from `where` (a path or an object store's URL, for messages);
// `version`, if given, must match its header.
export function checkManifest(text: string, where: string, version?: string): Manifest {
  const m = parseManifest(text);
  if (typeof m == "string") fail(E_MANIFEST, `manifest ${where} ${m}`);
  if (version !== undefined && m.version !== version) fail(E_MANIFEST, `manifest ${where} is for version "${m.version}", not "${version}"`);
  return m;
}

// Reads and checks the manifest at `file`; `version`, if given, must match its header.
export async function readManifest(file: string, version?: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fsp.readFile(file, "utf8");
  } catch (e: any) {
    if (e && e.code == "ENOENT") fail(E_MISSING, `manifest ${file} does not exist`);
    throw e;
  }
  return checkManifest(text, file, version);
}
