// Digests of release files: size, SHA-256, SHA-1 and zlib CRC-32, computed in one
// streaming pass, and the HMACs that sign a manifest.
import { createHash, createHmac } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import type { ManifestFile } from "../../modules/formats.ts";

// CRC-32 as zlib and Espruino's E.CRC32 compute it (reflected polynomial 0xEDB88320,
// initial value and final xor 0xFFFFFFFF). Continues a CRC over `data`: pass the
// previous result as `crc` (0 to start).
export function crc32(data: Uint8Array, crc = 0): number {
  return zlibCrc32(data, crc) >>> 0;
}

export interface Digests {
  size: number;
  sha256: string;
  sha1: string;
  crc32: number;
}

// Incremental digest of one file: update() with each chunk, then digest().
export class FileDigest {
  private sha256 = createHash("sha256");
  private sha1 = createHash("sha1");
  private crc = 0;
  private size = 0;
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.sha1.update(chunk);
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
  }
  digest(): Digests {
    return { size: this.size, sha256: this.sha256.digest("hex"), sha1: this.sha1.digest("hex"), crc32: this.crc };
  }
}

export function digestBytes(data: Uint8Array): Digests {
  const d = new FileDigest();
  d.update(data);
  return d.digest();
}

export function manifestFile(name: string, d: Digests): ManifestFile {
  return { name, size: d.size, sha256: d.sha256, sha1: d.sha1, crc32: d.crc32 };
}

export type Key = Buffer | string;

function keyBytes(key: Key): Buffer {
  return typeof key == "string" ? Buffer.from(key, "utf8") : key;
}

// "sig": HMAC-SHA256 (lowercase hex) of a manifest's signed text (formats.ts signedText()).
export function hmacSha256(key: Key, text: string): string {
  return createHmac("sha256", keyBytes(key)).update(text, "utf8").digest("hex");
}

// "sig1": HMAC-SHA1 (lowercase hex) of the same text, for boards whose
// firmware only has SHA-1 (ESP8266_4MB: boards/ESP8266_4MB.json "hashes": ["SHA1"]).
export function hmacSha1(key: Key, text: string): string {
  return createHmac("sha1", keyBytes(key)).update(text, "utf8").digest("hex");
}
