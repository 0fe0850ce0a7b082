/**
 * Board profiles: the Espruino board JSON (`boards/<name>.json`) plus the `ota` block of what
 * the emulator and the tools need per board (Storage size, HTTP chunk, hashes, TLS...).
 */

import { readFileSync } from 'node:fs';

export type BoardName = 'ESP32' | 'ESP8266_4MB' | 'ESP8266_BOARD' | 'LINUX';

export interface BoardProfile {
  info: { name: string; binary_version: string; builtin_modules: string[]; variables: number };
  chip: { part: string; family: string; saved_code: { page_size: number; pages: number } };
  ota: {
    board: string; storageBytes: number; pageSize: number; httpChunk: number;
    hashes: string[]; crypto: boolean; tls: boolean; variables: number; varBytes: number;
    [k: string]: unknown;
  };
}

const profileCache = new Map<string, BoardProfile>();

/** A fresh copy of a board's profile (callers may change it). */
export function loadProfile(board: BoardName): BoardProfile {
  let p = profileCache.get(board);
  if (!p) {
    const url = new URL(`../boards/${board}.json`, import.meta.url);
    p = JSON.parse(readFileSync(url, 'utf8')) as BoardProfile;
    profileCache.set(board, p);
  }
  return JSON.parse(JSON.stringify(p)) as BoardProfile;
}

/** ESP8266 boards: memory-mapped Storage written through the SDK (see storage-views.ts). */
export const isEsp8266 = (p: BoardProfile): boolean => p.chip.family === 'ESP8266';
