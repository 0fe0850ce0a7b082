// The device API's types: what require("ota") takes and gives. Types only: nothing here
// reaches the board.

export interface Options {
  host: string; // "http://…" or "https://…", with an optional path, no trailing slash
  project: string; // the project's folder on the server
  files?: string[]; // Storage names of a release without a manifest
  layout?: "prefix" | "subdir";
  user?: string; // HTTP Basic auth, sent only to the origin of `host`
  password?: string;
  key?: string; // HMAC key: only releases signed with it install
  timeout?: number; // ms without a byte before a request fails
  reset?: "hard" | "soft" | "none";
  onProgress?: (file: string, done: number, total: number) => void;
  confirmAfter?: number; // ms a new release runs before it confirms itself; 0: only confirm()
  maxBoots?: number; // starts a new release gets without confirmation; 0: no rollback
  keep?: boolean; // keep the running release's files for a rollback
}

export interface UpdateResult {
  updated: boolean;
  version: string;
  previous?: string;
}

export interface CheckResult {
  available: boolean;
  installed?: string;
  latest: string;
}

export interface Status {
  version?: string;
  previous?: string;
  pending: boolean;
  boots: number;
  lastError?: string;
}

// Every error update() and check() report: `code` is one of formats.ts's E_* codes.
export interface OtaError extends Error {
  code: string;
  status?: string; // EHTTP: the HTTP status
}

export type Callback<R> = (err: OtaError | null, result?: R) => void;
