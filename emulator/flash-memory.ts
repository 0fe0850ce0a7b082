/**
 * Persistent flash + Storage filesystem model (Espruino `jsflash.c`), independent of any JS
 * context so it survives reboots and a test can inspect it.
 *
 * Layout, as on the device: files are contiguous from address 0, each a 32-byte header
 * (uint32 LE size with flags in the top byte, then a 28-byte zero-padded name) followed by data
 * padded to 4 bytes. The first header whose size word is 0xFFFFFFFF ends the list. Deleting a
 * file zeroes the first 4 name bytes ("trash"); space is only reclaimed by compaction.
 *
 * Power-cut model: every flash mutation is an "op" (header write, data write, delete mark,
 * compaction, eraseAll). `armPowerCut(k)` makes the k-th op from now cut the power: that op does
 * not land (except a data write with `mid`, where the first half of its bytes land), and from
 * then on the flash is frozen until `powerOn()` is called by the board.
 *
 * Why this module is over 500 lines: it is one data structure (the bytes, the cached file
 * table, the power-cut gate) whose operations all maintain the same invariants.
 */

import { Buffer } from 'node:buffer';

export const HEADER_BYTES = 32;
export const NAME_BYTES = 28;
const ALIGN = 4;
const END_MARK = 0xffffffff;

/** Thrown by every mutation once the armed power cut has fired. */
export class PowerCut extends Error {
  constructor() {
    super('Power cut');
    this.name = 'PowerCut';
  }
}

/** An error the device would see as a JS exception; `jsType` is the Espruino error class name. */
export class StorageError extends Error {
  constructor(message: string, readonly jsType: 'Error' | 'TypeError' | 'SyntaxError' = 'Error') {
    super(message);
    this.name = 'StorageError';
  }
}

export interface FlashOptions {
  storageBytes: number;
  pageSize: number;
}

export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

export interface FlashCounters {
  /** mutation ops that landed (header/data writes, delete marks, compactions, eraseAll) */
  flashWrites: number;
  /** data + header bytes written */
  bytesWritten: number;
  /** page erases (compaction, eraseAll) */
  erases: number;
  /** file delete marks */
  deletes: number;
  compactions: number;
  /** largest single data write (bytes) */
  maxWriteBytes: number;
}

/** One entry of the on-flash file table. */
export interface FileEntry {
  addr: number; // header address
  size: number; // data length (without padding)
  flags: number;
  name: Buffer; // 28 raw bytes
  trash: boolean;
}

export type FlashOp = 'header' | 'data' | 'delete' | 'compact' | 'eraseAll';

export const align = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** Storage name → 28 raw bytes: Latin-1, "x:" drive prefix stripped, silently truncated. */
export function nameBytes(name: string): Buffer {
  let s = String(name);
  if (s.length >= 2 && s[1] === ':') s = s.substring(2); // jsfStripDriveFromName
  const out = Buffer.alloc(NAME_BYTES, 0);
  for (let i = 0; i < s.length && i < NAME_BYTES; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** 28 raw name bytes → string (up to the first NUL). */
export function nameString(raw: Buffer): string {
  let end = raw.indexOf(0);
  if (end < 0) end = raw.length;
  return raw.subarray(0, end).toString('latin1');
}

export class Flash {
  readonly storageBytes: number;
  readonly pageSize: number;
  /** raw flash contents; tests may inspect but should not write (assigning a new array is fine) */
  get bytes(): Uint8Array { return this.mem; }
  set bytes(b: Uint8Array) { this.mem = b; this.invalidate(); }
  private mem!: Uint8Array;
  counters: FlashCounters = Flash.zeroCounters();
  /** mutation ops attempted since creation (or `resetCounters`), including the one that cut */
  opCount = 0;
  /** console sink for "Compacting..." (the board wires this to its output) */
  onMessage: (line: string) => void = () => {};
  /** called once when the armed power cut fires */
  onPowerCut: (op: FlashOp) => void = () => {};

  /**
   * The file table as last walked, and the first entry per 28 raw name bytes (latin1 key),
   * so that a Storage call costs the bytes it touches, not a walk of every header. Only the
   * header area changes the table (header writes, delete marks, compaction, eraseAll,
   * a new `bytes`), and each of those drops the cache; data writes stay inside their file.
   */
  private table: FileEntry[] | null = null;
  private index: Map<string, FileEntry> | null = null;
  private tableEnd = 0;

  /** per name key: how often a file of that name was deleted (erase, or replaced by a write) */
  private deletions = new Map<string, number>();
  private eraseAllCount = 0;

  private cutAt = 0; // opCount value at which the power dies (0 = not armed)
  private cutMid = false;
  private frozen = false;

  constructor(opts: FlashOptions) {
    this.storageBytes = opts.storageBytes;
    this.pageSize = opts.pageSize;
    this.bytes = new Uint8Array(opts.storageBytes).fill(0xff);
  }

  static zeroCounters(): FlashCounters {
    return { flashWrites: 0, bytesWritten: 0, erases: 0, deletes: 0, compactions: 0, maxWriteBytes: 0 };
  }

  // Counter aliases (benchmarks read these directly).
  get flashWrites() { return this.counters.flashWrites; }
  get bytesWritten() { return this.counters.bytesWritten; }
  get erases() { return this.counters.erases; }
  get deletes() { return this.counters.deletes; }
  get compactions() { return this.counters.compactions; }
  get maxWriteBytes() { return this.counters.maxWriteBytes; }

  resetCounters(): void {
    this.counters = Flash.zeroCounters();
    this.opCount = 0;
  }

  // ---------------------------------------------------------------- fault injection

  /** The k-th mutation op from now (1-based) cuts the power. `mid`: a data write lands half. */
  armPowerCut(k: number, mid = false): void {
    if (!(k >= 1)) throw new RangeError('armPowerCut: k must be >= 1');
    this.cutAt = this.opCount + Math.floor(k);
    this.cutMid = mid;
  }

  disarmPowerCut(): void {
    this.cutAt = 0;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Power gone now (not at an op): further mutations throw PowerCut until powerOn(). */
  freeze(): void {
    this.frozen = true;
    this.cutAt = 0;
  }

  /** Power restored: the flash accepts writes again (whatever landed stays). An armed, not yet fired cut stays armed. */
  powerOn(): void {
    this.frozen = false;
  }

  /**
   * Gate for every mutation. Returns 'ok' to proceed, 'half' when a data write should land
   * half and then cut, or throws PowerCut when this op cuts (or the flash is already dead).
   */
  private beginOp(op: FlashOp): 'ok' | 'half' {
    if (this.frozen) throw new PowerCut();
    this.opCount++;
    if (this.cutAt && this.opCount === this.cutAt) {
      this.frozen = true;
      this.cutAt = 0;
      if (op === 'data' && this.cutMid) return 'half';
      this.onPowerCut(op);
      throw new PowerCut();
    }
    return 'ok';
  }

  private afterHalf(op: FlashOp): never {
    this.onPowerCut(op);
    throw new PowerCut();
  }

  // ---------------------------------------------------------------- low level

  private u32(addr: number): number {
    const b = this.mem;
    return (b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24)) >>> 0;
  }

  /** NOR flash semantics: programming can only clear bits. */
  private program(addr: number, data: Uint8Array): void {
    const m = this.mem;
    for (let i = 0; i < data.length; i++) m[addr + i] &= data[i];
  }

  /** Walk the file table in flash order (trash included). */
  entries(): FileEntry[] {
    return this.walk().map((e) => ({ ...e, name: Buffer.from(e.name) }));
  }

  /** The cached table (shared entries: internal use only, do not mutate). */
  private walk(): FileEntry[] {
    if (this.table) return this.table;
    const out: FileEntry[] = [];
    const index = new Map<string, FileEntry>();
    let addr = 0;
    while (addr + HEADER_BYTES <= this.storageBytes) {
      const word = this.u32(addr);
      if (word === END_MARK) break;
      const size = word & 0xffffff;
      const name = Buffer.from(this.bytes.subarray(addr + 4, addr + HEADER_BYTES));
      const trash = name[0] === 0 && name[1] === 0 && name[2] === 0 && name[3] === 0;
      const e = { addr, size, flags: word >>> 24, name, trash };
      out.push(e);
      const key = name.toString('latin1');
      if (!index.has(key)) index.set(key, e); // the first match in flash order, as jsfFindFile
      addr += HEADER_BYTES + align(size);
    }
    this.table = out;
    this.index = index;
    const last = out[out.length - 1];
    this.tableEnd = last ? last.addr + HEADER_BYTES + align(last.size) : 0;
    return out;
  }

  /** The header area changed: the next lookup walks the table again. */
  private invalidate(): void {
    this.table = null;
    this.index = null;
  }

  /** Address just after the last file (start of the free tail). */
  private endAddr(): number {
    this.walk();
    return this.tableEnd;
  }

  /** Byte-exact name match, as jsfFindFile: trash only matches a name that is itself zeroed. */
  find(name: string): FileEntry | undefined {
    this.walk();
    return this.index!.get(nameBytes(name).toString('latin1'));
  }

  /** The key `generation()` takes for a file name (its 28 raw name bytes). */
  static nameKey(name: string): string {
    return nameBytes(name).toString('latin1');
  }

  /**
   * Changes whenever the file of that name (by `nameKey`) is deleted: erased, replaced by a
   * write with other content, or wiped by eraseAll. Writes at an offset, identical rewrites
   * and compaction (which moves files) leave it: what Espruino's jsvUpdateMemoryAddress
   * follows for code and strings that point into a file (stored-code.ts, storage-views.ts).
   */
  generation(key: string): string {
    return `${this.eraseAllCount}.${this.deletions.get(key) ?? 0}`;
  }

  private isErased(addr: number, len: number): boolean {
    const m = this.mem;
    for (let i = 0; i < len; i++) if (m[addr + i] !== 0xff) return false;
    return true;
  }

  private writeHeader(addr: number, size: number, flags: number, name: Buffer): void {
    this.beginOp('header');
    const h = Buffer.alloc(HEADER_BYTES);
    h.writeUInt32LE(((flags & 0xff) << 24 | (size & 0xffffff)) >>> 0, 0);
    name.copy(h, 4);
    this.invalidate();
    this.program(addr, h);
    this.counters.flashWrites++;
    this.counters.bytesWritten += HEADER_BYTES;
  }

  private writeData(addr: number, data: Uint8Array): void {
    const mode = this.beginOp('data');
    if (mode === 'half') {
      this.program(addr, data.subarray(0, Math.floor(data.length / 2)));
      this.afterHalf('data');
    }
    this.program(addr, data);
    this.counters.flashWrites++;
    this.counters.bytesWritten += data.length;
    if (data.length > this.counters.maxWriteBytes) this.counters.maxWriteBytes = data.length;
  }

  private markDeleted(e: FileEntry): void {
    this.beginOp('delete');
    const key = e.name.toString('latin1');
    this.deletions.set(key, (this.deletions.get(key) ?? 0) + 1);
    this.invalidate();
    this.program(e.addr + 4, new Uint8Array(4)); // zero the first 4 name bytes
    this.counters.flashWrites++;
    this.counters.deletes++;
  }

  // ---------------------------------------------------------------- Storage API (host values)

  /**
   * Storage.write semantics (§2.3, jsfWriteFile). Returns true or throws StorageError.
   * `beforeData(offset, length)` runs when the data is about to be programmed (after the file
   * was found or created): the board's hook for what the SDK's flash write does (storage.ts).
   */
  write(name: string, data: Uint8Array, offset = 0, size = 0, beforeData?: (offset: number, length: number) => void): boolean {
    offset = Math.floor(Number(offset) || 0);
    size = Math.floor(Number(size) || 0);
    if (offset < 0 || size < 0) return false;
    const len = data.length;
    if (size === 0) size = len;
    // checked before the file is looked up, so an existing file is kept (golden probe 57)
    if (size === 0) throw new StorageError("Can't create zero length file");
    let file = this.find(name);
    if (offset === 0) {
      const reusable = file && file.flags === 0 && file.size === size &&
        this.isErased(file.addr + HEADER_BYTES, size);
      if (!reusable) {
        if (file && file.size === len && this.equalContent(file, data)) return true;
        if (file) this.markDeleted(file);
        file = this.createFile(nameBytes(name), size);
      }
    }
    if (!file) throw new StorageError('Unable to find or create file');
    if (offset + len > file.size) throw new StorageError('Too much data for file size');
    const at = file.addr + HEADER_BYTES + offset;
    if (!this.isErased(at, len)) throw new StorageError('File already written with different data');
    if (len > 0) {
      beforeData?.(offset, len);
      this.writeData(at, data);
    }
    return true;
  }

  private equalContent(e: FileEntry, data: Uint8Array): boolean {
    const at = e.addr + HEADER_BYTES;
    const m = this.mem;
    for (let i = 0; i < data.length; i++) if (m[at + i] !== data[i]) return false;
    return true;
  }

  /** _jsfCreateFile: append at the free tail, auto-compacting when trash would make room. */
  private createFile(name: Buffer, size: number): FileEntry {
    if (size > 0xffffff) throw new StorageError('Unable to find or create file');
    const need = HEADER_BYTES + align(size);
    let end = this.endAddr();
    if (end + need > this.storageBytes) {
      const trash = this.walk().filter((e) => e.trash).reduce((n, e) => n + HEADER_BYTES + align(e.size), 0);
      if (this.storageBytes - end + trash < need) throw new StorageError('Unable to find or create file');
      this.compact(true);
      end = this.endAddr();
    }
    this.writeHeader(end, size, 0, name);
    return { addr: end, size, flags: 0, name, trash: false };
  }

  /** Raw bytes of a file (a copy); undefined if missing. */
  readBytes(name: string, offset = 0, length = 0): Buffer | undefined {
    const v = this.view(name, offset, length);
    return v && Buffer.from(v);
  }

  /** The bytes Storage.read would return, as a view into flash (no copy); undefined if missing. */
  private view(name: string, offset: number, length: number): Uint8Array | undefined {
    const f = this.find(name);
    if (!f) return undefined;
    offset = Math.max(0, Math.floor(Number(offset) || 0));
    length = Math.floor(Number(length) || 0);
    const start = Math.min(offset, f.size);
    const end = length > 0 ? Math.min(f.size, start + length) : f.size;
    const base = f.addr + HEADER_BYTES;
    return this.bytes.subarray(base + start, base + end);
  }

  /** Storage.read: a Latin-1 binary string, or undefined. */
  read(name: string, offset = 0, length = 0): string | undefined {
    const v = this.view(name, offset, length);
    return v && Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  }

  erase(name: string): void {
    const f = this.find(name);
    if (f) this.markDeleted(f);
  }

  eraseAll(): void {
    this.beginOp('eraseAll');
    this.eraseAllCount++;
    this.bytes.fill(0xff);
    this.invalidate();
    this.counters.flashWrites++;
    this.counters.erases += Math.ceil(this.storageBytes / this.pageSize);
  }

  /** Names of live files in flash order (no regex filtering: that is the JS engine's job). */
  list(): string[] {
    return this.walk().filter((e) => !e.trash).map((e) => nameString(e.name));
  }

  getFree(): number {
    return this.storageBytes - this.endAddr();
  }

  getStats(): StorageStats {
    const list = this.walk();
    const end = this.endAddr();
    const s: StorageStats = {
      totalBytes: this.storageBytes, freeBytes: this.storageBytes - end,
      fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0,
    };
    for (const e of list) {
      const n = HEADER_BYTES + align(e.size);
      if (e.trash) { s.trashBytes += n; s.trashCount++; } else { s.fileBytes += n; s.fileCount++; }
    }
    return s;
  }

  /**
   * Rewrite live files contiguously from address 0, keeping their order. One atomic op; the
   * real firmware's page-by-page swap is what would make a cut here dangerous (see §2.4).
   */
  compact(fromAuto = false): void {
    void fromAuto;
    this.onMessage('Compacting...');
    this.beginOp('compact');
    const list = this.walk();
    const firstTrash = list.findIndex((e) => e.trash);
    const oldEnd = this.endAddr();
    const next = new Uint8Array(this.storageBytes).fill(0xff);
    let at = 0;
    for (const e of list) {
      if (e.trash) continue;
      const n = HEADER_BYTES + align(e.size);
      next.set(this.bytes.subarray(e.addr, e.addr + n), at);
      at += n;
    }
    this.bytes = next;
    this.invalidate();
    this.counters.flashWrites++;
    this.counters.compactions++;
    if (firstTrash >= 0) {
      const firstPage = Math.floor(list[firstTrash].addr / this.pageSize);
      this.counters.erases += Math.ceil(oldEnd / this.pageSize) - firstPage;
    }
  }

  /** Storage.hash: names and addresses, not contents (as the firmware does). */
  hash(filter?: (name: string) => boolean): number {
    let h = 0;
    for (const e of this.walk()) {
      if (e.trash) continue;
      const n = nameString(e.name);
      if (filter && !filter(n)) continue;
      for (let i = 0; i < NAME_BYTES; i++) h = (Math.imul(h, 31) + e.name[i]) >>> 0;
      h = (Math.imul(h, 31) + e.addr) >>> 0;
    }
    return h;
  }

  // ---------------------------------------------------------------- host helpers

  /** Live files with their contents, in flash order. */
  files(): { name: string; data: Buffer }[] {
    return this.walk().filter((e) => !e.trash).map((e) => ({
      name: nameString(e.name),
      data: Buffer.from(this.bytes.subarray(e.addr + HEADER_BYTES, e.addr + HEADER_BYTES + e.size)),
    }));
  }

  readFile(name: string): Buffer | undefined {
    return this.readBytes(name);
  }

  /**
   * Host-side preload (like uploading with the IDE): same placement rules as Storage.write but
   * counts nothing and ignores the armed fault. Strings are taken as Latin-1... unless they
   * contain characters above 0xFF, then as UTF-8 (source files).
   */
  writeFile(name: string, data: string | Uint8Array): void {
    const bytes = typeof data === 'string'
      ? Buffer.from(data, /[^\x00-\xff]/.test(data) ? 'utf8' : 'latin1')
      : data;
    const saved = { counters: { ...this.counters }, opCount: this.opCount, cutAt: this.cutAt, frozen: this.frozen };
    this.cutAt = 0;
    this.frozen = false;
    const quiet = this.onMessage;
    this.onMessage = () => {};
    try {
      if (bytes.length === 0) this.erase(name);
      else this.write(name, bytes, 0, bytes.length);
    } finally {
      this.onMessage = quiet;
      this.counters = saved.counters;
      this.opCount = saved.opCount;
      this.cutAt = saved.cutAt;
      this.frozen = saved.frozen;
    }
  }

  /** Deep copy (bytes, counters, geometry); fault state and callbacks are not copied. */
  clone(): Flash {
    const f = new Flash({ storageBytes: this.storageBytes, pageSize: this.pageSize });
    f.bytes = this.bytes.slice();
    f.counters = { ...this.counters };
    return f;
  }
}
