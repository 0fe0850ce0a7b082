// Types of the espruino-ota device module, for Espruino apps written in TypeScript.
// On the board the module is the Storage file "ota" (put there by `espruino-ota flash`),
// or what the Web IDE fetches for require("ota"); these declarations describe it.
// Use: `"types": ["espruino-ota/ota"]` in tsconfig.json (or
// `/// <reference types="espruino-ota/ota" />`), then `import * as ota from "ota"` or
// `const ota = require("ota")`: the compiled code keeps require("ota").
// The API, options, results and error codes are the README's "On the device".
// The device code itself (modules/ota.ts, update.ts) takes its types from here too, so
// there is one definition; test/package.test.ts proves the codes are formats.ts's.

declare module "ota" {
  /** Stable `code` of every error update() and check() report; the message says what to do. */
  export type OtaErrorCode =
    | "EOPTS" // bad options (also: `key` on a board without SHA-1)
    | "EBUSY" // an update() or check() is already running
    | "EBOOT" // the boot stage .boot0 or .bootPowerOn is not in Storage, and the release does not carry it
    | "ENET" // DNS failure, connection refused or reset, no response
    | "ETIMEOUT" // no byte for opts.timeout ms
    | "EHTTP" // a status other than 200 after redirects; err.status holds it
    | "EREDIRECT" // more than 3 redirects, or one without Location
    | "EVERSION" // the server's version is empty, too long or holds characters outside A-Za-z0-9._+-
    | "EMANIFEST" // the manifest is not valid
    | "ESIZE" // no Content-Length, a body shorter or longer than it, or a size other than the manifest's
    | "EHASH" // a stored file's size or digest differs from the manifest
    | "ESIG" // opts.key is set and the signature is missing or wrong, or there is no manifest
    | "ENAME" // a name in opts.files a board cannot hold
    | "ENOSPC" // not enough free Storage for the release (checked before any byte is written)
    | "EFLASH" // a Storage write failed
    | "EREJECTED"; // a version this board rolled back, or (with key) a signed release whose seq is not above the installed one

  export interface OtaError extends Error {
    code: OtaErrorCode;
    /** the HTTP status, for EHTTP: a string, as Espruino's statusCode is */
    status?: string;
  }

  /** How update() and check() report, when given a callback. */
  export type OtaCallback<R> = (err: OtaError | null, result?: R) => void;

  /** What update() and check() take. */
  export interface OtaOptions {
    /** "http://…" or "https://…" (ESP32 only), with an optional path, no trailing slash */
    host: string;
    /** the project's folder on the server */
    project: string;
    /** Storage names of the release's files (at most 28 characters); only for a release without a manifest */
    files?: string[];
    /** "prefix" (default): <host>/<project>/<ver>_<file>; "subdir": <host>/<project>/<ver>/<file> */
    layout?: "prefix" | "subdir";
    /** HTTP Basic auth: both or neither */
    user?: string;
    password?: string;
    /** HMAC key: only releases whose manifest is signed with it install, and only newer ones (seq) */
    key?: string;
    /** ms without a byte before a request fails, a stall mid-body included (default 5000) */
    timeout?: number;
    /** after an install or a positive check(): "hard" (default) E.reboot(), "soft" load(), "none" leaves it to you */
    reset?: "hard" | "soft" | "none";
    /** called after each chunk is stored; it must not throw (a throw stops the update with EFLASH) */
    onProgress?: (file: string, done: number, total: number) => void;
    /** ms a new release must run after a start with no uncaught exception to confirm itself (default 60000); 0: only confirm() */
    confirmAfter?: number;
    /** real starts a new release gets without confirmation before it is rolled back (default 3); 0: no rollback */
    maxBoots?: number;
    /** keep the running release's files, so that the next one can be rolled back (default true) */
    keep?: boolean;
  }

  export interface UpdateResult {
    /** a new release is installed (the board resets into it, per opts.reset) */
    updated: boolean;
    /** the server's version */
    version: string;
    /** the version installed before */
    previous?: string;
  }

  export interface CheckResult {
    /** the server offers a version other than the installed one (and not one this board rolled back) */
    available: boolean;
    installed?: string;
    latest: string;
  }

  export interface OtaStatus {
    version?: string;
    previous?: string;
    /** the release is on trial: not yet confirmed */
    pending: boolean;
    /** real starts of the pending release so far */
    boots: number;
    /** why the last rollback happened; survives reboots */
    lastError?: string;
  }

  /**
   * Installs the server's release if it differs from the installed one, then resets
   * (opts.reset). With `cb`, calls it from a later tick; without, returns a Promise (made
   * only then: it costs RAM during the call).
   */
  export function update(opts: OtaOptions, cb: OtaCallback<UpdateResult>): void;
  export function update(opts: OtaOptions): Promise<UpdateResult>;
  /**
   * Asks only whether the server's version differs (with opts.key: and whether its signed
   * manifest verifies); if so, resets per opts.reset so that the boot code's update()
   * installs it. A callback, or a Promise without one, as update().
   */
  export function check(opts: OtaOptions, cb: OtaCallback<CheckResult>): void;
  export function check(opts: OtaOptions): Promise<CheckResult>;
  /** The installed version, or undefined. */
  export function version(): string | undefined;
  /** Marks a pending release as good; returns whether it was pending. */
  export function confirm(): boolean;
  export function status(): OtaStatus;
}
