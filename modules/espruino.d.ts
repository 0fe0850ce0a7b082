// The Espruino 2v29 globals and built-in modules that the device code uses, typed as the
// firmware provides them (read in Espruino's sources, and run on the real interpreter).
// modules/tsconfig.json checks the device code against these and ES5 alone, so a Node API
// or an ES2015 method used by mistake is a type error, not a crash on a board.

interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

interface StorageModule {
  // A view into flash, not a copy: a later write shows through it, and it reads null once
  // the file is erased (seen on 2v29). E.toUint8Array() copies it into RAM.
  read(name: string, offset?: number, length?: number): string | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  // Throws on every failure (full, written twice, no such file at an offset > 0).
  write(name: string, data: string | Uint8Array, offset?: number, size?: number): boolean;
  writeJSON(name: string, data: object): boolean;
  erase(name: string): void;
  list(filter?: RegExp): string[];
  compact(): void;
  getFree(): number;
  getStats(): StorageStats;
}

interface HttpResponse {
  statusCode: string; // a String, such as "200"
  headers: { [name: string]: string }; // in the case the server sent
  on(event: "data", listener: (chunk: string) => void): void;
  on(event: "close", listener: (hadError: boolean) => void): void; // true after an error (HTTPS's -30848)
}

interface HttpRequest {
  clsNow?: boolean; // set to true: the socket closes at the next idle pass (there is no abort())
  on(event: "error", listener: (e: { code: number; message?: string }) => void): void;
}

interface HttpModule {
  // Throws at once when the host cannot be found or connected to.
  get(options: UrlParts, callback: (res: HttpResponse) => void): HttpRequest;
}

interface UrlParts {
  protocol: string;
  host: string;
  port: number | null;
  path: string;
  headers?: { [name: string]: string };
}

interface CryptoModule {
  SHA1?(data: string): ArrayBuffer;
  SHA256?(data: string): ArrayBuffer; // not on ESP8266
}

interface EspruinoE {
  CRC32(data: string | Uint8Array): number;
  toString(data: ArrayBuffer | Uint8Array | string): string; // of one string: that string, no copy
  toUint8Array(data: string): Uint8Array; // a new array: copies, even from flash
  reboot(): void;
}

interface EspruinoProcess {
  env: { BOARD: string; VERSION: string };
  on(event: "uncaughtException", listener: (e: any) => void): void;
  removeListener(event: "uncaughtException", listener: Function): void;
  // Removing the last listener with removeListener silences later uncaught errors until
  // the next start; removeAllListeners restores Espruino's own report (seen on 2v29).
  removeAllListeners(event: "uncaughtException"): void;
  // Where Espruino keeps the listeners, in the order they were added.
  "#onuncaughtException"?: Function[];
  // Collects garbage first, which also rebuilds the free list in address order (src/jsvar.c,
  // jsvGarbageCollect), then reports the JsVars in use.
  memory(): { usage: number; free: number; total: number };
}

declare function require(name: "Storage"): StorageModule;
declare function require(name: "http"): HttpModule;
declare function require(name: "crypto"): CryptoModule;
declare var exports: { [name: string]: any };
declare var E: EspruinoE;
declare var url: { parse(u: string): UrlParts };
declare var process: EspruinoProcess;
declare function btoa(s: string): string;
declare function load(): void;
declare function print(...text: any[]): void;
declare function getSerial(): string;
// A string callback is evaluated at global scope when the timer fires: its code lives in
// RAM, so it outlives a rewrite of the Storage file that set the timer. Arguments after
// `ms` are passed to a function callback.
declare function setTimeout(callback: Function | string, ms: number, ...args: any[]): number;
declare function clearTimeout(id: number): void;
declare function eval(code: string): any;
