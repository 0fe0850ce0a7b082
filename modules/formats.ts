// The one definition of every format that the device and the publisher share:
// Storage names, the keys of stored JSON, legal versions and file names, URL layouts
// and error codes. The device bundle compiles this file in; tools/ import it.
// Device rules apply: ES5 only, no regex {n} quantifiers or lookarounds.

// Storage file names owned by the updater. All start with ".ota" except the boot
// stages, which must have the names Espruino runs at start-up.
export var BOOT = ".boot0"; // boot stage: installs or rolls back before app code runs, at every start
export var BOOT_COUNT = ".bootPowerOn"; // marks a real start (power-on, E.reboot(), resets) for the boot stage to count
export var POWER_ON = "__otaP"; // the global BOOT_COUNT sets and BOOT deletes

export var STATE = ".otav"; // installed release: STATE keys below
export var JOURNAL = ".otaj"; // install journal: once written, the next start installs (JOURNAL keys below)
export var STAGE = ".ota_"; // file i of a release kept in copy set c ("a" or "b") is STAGE + c + i
export var STAGE_RE = /^\.ota_/; // Storage.list(STAGE_RE): only the copies, not every file's name in RAM
export var PENDING = ".otan"; // while a release is pending: one byte per start, "E" after an uncaught exception
export var LAST_ERROR = ".otae"; // why the last rollback happened, kept across starts
export var COMPACT = ".otac"; // asks the boot stage to compact Storage before app code runs
export var MANIFEST_FILE = ".otam"; // the release's manifest while update() runs: read from flash, not RAM

// Keys of STATE and JOURNAL, one letter each because every key costs flash and RAM. A
// journal is the STATE its install leads to, plus how to get there; the boot stage stores
// it as STATE once installed. These keys are the contract between the module and the boot
// stage, which a board may keep across module versions: a later version may add keys,
// never change these.
//   v  version (STATE: installed; JOURNAL: the version to install)
//   p  previous version
//   s  copy set holding this release's files, kept for a rollback (absent when not kept)
//   o  copy set holding the previous release's files, for a rollback (absent when none)
//   f  this release's Storage names, in order: file i is staged as STAGE + c + i
//   g  the previous release's Storage names (files it had and this one drops are deleted)
//   a  confirmAfter, ms (STATE, while pending)
//   x  a version that was rolled back; update() does not install it again
//   q  the highest seq of a signed release installed here; a signed release must be above it
//   c  JOURNAL: the copy set to install from
//   m  JOURNAL: bytes of the PENDING counter to create (maxBoots), 0: not pending
//   e  JOURNAL: text for LAST_ERROR (a rollback's reason)
export interface StateRecord {
  v?: string;
  p?: string;
  s?: string;
  o?: string;
  f?: string[];
  g?: string[];
  a?: number;
  x?: string;
  q?: number;
}
export interface JournalRecord extends StateRecord {
  c?: string;
  m?: number;
  e?: string;
}

export function isStage(n: string) {
  return n.indexOf(STAGE) == 0;
}

// Bytes a Storage file of n bytes takes in flash: a 32-byte header, data padded to 4.
export function room(n: number) {
  return 32 + ((n + 3) & ~3);
}

export var MAX_NAME = 28; // Storage silently truncates longer names
export var MAX_VERSION = 64;

export var LAYOUTS = ["prefix", "subdir"];

// Defaults of update()'s options.
export var DEFAULT_TIMEOUT = 5000;
export var DEFAULT_CONFIRM_AFTER = 60000;
export var DEFAULT_MAX_BOOTS = 3;
export var MAX_REDIRECTS = 3;

// The one vocabulary of error codes, for the device and the tools alike: every error
// is an Error with one of these as its `code`, and a message that says what to do.
// The device build inlines the codes it uses and drops the rest, so a tool-only code
// costs the board nothing.
// Device (update(), check()):
export var E_OPTS = "EOPTS"; // bad options or arguments (device: update()/check(); tools: the command line)
export var E_BUSY = "EBUSY"; // an update is already running
export var E_NET = "ENET"; // no connection: DNS, refused, reset, "no response"
export var E_TIMEOUT = "ETIMEOUT"; // no byte for opts.timeout ms
export var E_HTTP = "EHTTP"; // status other than 200 (after redirects)
export var E_REDIRECT = "EREDIRECT"; // more than MAX_REDIRECTS redirects, or no Location
export var E_VERSION = "EVERSION"; // a version the board cannot take: empty, too long or bad characters
export var E_SIZE = "ESIZE"; // body shorter or longer than Content-Length, or no Content-Length
export var E_NAME = "ENAME"; // a file name the board cannot hold
export var E_SPACE = "ENOSPC"; // not enough free Storage for the release
export var E_FLASH = "EFLASH"; // Storage.write failed
export var E_MANIFEST = "EMANIFEST"; // a manifest that is not valid, cannot be read or does not match
export var E_HASH = "EHASH"; // a staged file's size or hash differs from the manifest
export var E_SIG = "ESIG"; // opts.key is set and the manifest's signature is missing or wrong
export var E_REJECTED = "EREJECTED"; // a version that was rolled back here, or a signed release not newer than the installed one
export var E_BOOT = "EBOOT"; // the boot stage (BOOT, BOOT_COUNT) is not in Storage: npm run flash puts it there
// Tools only (publishing, serving, flashing):
export var E_EXISTS = "EEXIST"; // the version (or one of its files) is already published
export var E_MISSING = "ENOENT"; // an input file, release file or manifest is missing
export var E_DUPLICATE = "EDUPNAME"; // two files of one release share a Storage name
export var E_LIVE = "ELIVE"; // the operation would remove the live version
export var E_UNKNOWN_VERSION = "ENOVERSION"; // no release of that version is published
export var E_SYMLINK = "ESYMLINK"; // a path below the server root is a symlink: the publisher never follows one
export var E_STORE = "ESTORE"; // the object store refused or failed a request (credentials, permissions, bucket, network)
export var E_INSECURE = "EINSECURE"; // a file or folder the tools would trust (TLS certificate or key) that another user could have written
// Flashing a board through the espruino CLI (tools/flash.ts, tools/espruino-cli.ts):
export var E_PORT = "ENOPORT"; // no port given, or a serial port that does not exist or cannot be opened
export var E_NO_ANSWER = "ENOANSWER"; // connected to the port, but the board never answered
export var E_BOARD = "ENOBOARD"; // an unknown board name, or a board JSON that is missing or not JSON
export var E_MODULE = "ENOMODULE"; // the espruino CLI found no module for a require() of the app
export var E_CLI = "ECLI"; // the espruino CLI could not start, or failed in a way not listed here
// The tools reuse device codes where the meaning is the same: E_BUSY (a serial port held by
// another program), E_NET (a board's telnet console refused or unreachable), E_TIMEOUT (the
// espruino CLI did not finish in time), E_MISSING (an app or program file that is not there).

// Each rule a board and the publisher share is a check that returns 0, or the number of the
// first clause the value breaks: the board needs only that, and only the tools carry the
// messages (the *_ERRORS tables), so a rule costs the board no text.

// Versions go into URLs and Storage names, so only URL- and name-safe characters.
export function versionRule(v: string): number {
  return !v ? 1 : v.length > MAX_VERSION ? 2 : /^[A-Za-z0-9._+-]+$/.test(v) ? 0 : 3;
}
// (literal text, so that a bundle which does not use them drops them: 64 is MAX_VERSION)
export var VERSION_ERRORS = ["", "is empty", "is longer than 64 characters", "may only hold A-Z a-z 0-9 . _ + -"];

// Returns why `v` cannot be a version, or "" if it can.
export function versionError(v: string): string {
  return VERSION_ERRORS[versionRule(v)];
}

export var MAX_PROJECT = 64;

// Returns why `p` cannot be a project, or "" if it can. A project is a folder path on the
// server and goes into every URL unescaped, so only URL-safe characters, in "/"-separated
// segments none of which starts with "." (no "..", no hidden folders).
export function projectError(p: string): string {
  if (!p) return "is empty";
  if (p.length > MAX_PROJECT) return "is longer than " + MAX_PROJECT + " characters";
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(p)) return "may only hold A-Z a-z 0-9 . _ - in /-separated folders that do not start with \".\"";
  return "";
}

// A Storage name a release may hold: Storage silently truncates longer names (and counts
// bytes: the publisher passes a name's UTF-8 bytes); it strips "x:" as a drive letter, so
// "a:foo" would land as "foo"; a newline would break a manifest's line; ".ota" names are the
// updater's own. A release may carry the boot stages (BOOT, BOOT_COUNT): update() installs
// them itself.
export function nameRule(n: string): number {
  return typeof n != "string" || !n ? 1 : n.length > MAX_NAME ? 2 : n.charAt(1) == ":" ? 3 : n.indexOf("\n") >= 0 ? 4 : n.indexOf(".ota") ? 0 : 5;
}
// (28 is MAX_NAME)
export var NAME_ERRORS = ["", "is empty", "is longer than 28 bytes", "has ':' as its second character", "holds a newline", "is reserved for the updater"];

// Returns why `n` cannot be a file of a release, or "" if it can.
export function nameError(n: string): string {
  return NAME_ERRORS[nameRule(n)];
}

// <project>/VERSION_FILE names the live release: the one switch for the whole fleet.
export var VERSION_FILE = "version";

// URL of the version file.
export function versionUrl(host: string, project: string): string {
  return host + "/" + project + "/" + VERSION_FILE;
}

// Path of a release's files below the server root, less each file's name, in either of
// micropython_ota's layouts: prefix: <project>/<ver>_<file>; subdir: <project>/<ver>/<file>.
// (Its parameters have names no device function uses: the minifier inlines a helper into the
// update machinery only where they clash with none there.)
export function releasePath(projectPath: string, release: string, layout?: string): string {
  return projectPath + "/" + release + (layout == "subdir" ? "/" : "_");
}

// Path of one file of a release below the server root.
export function filePath(project: string, ver: string, name: string, layout?: string): string {
  return releasePath(project, ver, layout) + name;
}

// Identity headers sent with every request, so a server can log devices or route
// staged rollouts: installed version, board (process.env.BOARD), firmware
// (process.env.VERSION) and device id (getSerial()).
export var H_VERSION = "X-Ota-V";
export var H_BOARD = "X-Ota-B";
export var H_FIRMWARE = "X-Ota-F";
export var H_ID = "X-Ota-Id";

// A release may carry a manifest, named like any other file of the release:
// <project>/<ver>_manifest.txt (prefix) or <project>/<ver>/manifest.txt (subdir). It is text,
// one record per line, fields separated by one space, every line ending in "\n":
//   espruino-ota/2 <project> <version> <seq> <count>        the header
//   <size> <sha256> <sha1> <crc32> <name>                   one line per file, count lines
//   <hmac-sha256> <hmac-sha1>                               only in a signed release
// sizes and crc32 are decimal, digests lowercase hex; a name is the rest of its line (Storage
// names may hold spaces, never a newline). The signature covers every byte before its line,
// so the project and seq are signed: a release cannot be moved to another project sharing the
// key, nor an older one replayed. A board reads it line by line from flash (16 KB at most),
// so a release of many files costs no more RAM than one; and it hashes the signed bytes where
// they lie in flash, with the HMAC key's inner pad stored in the MANIFEST_PAD bytes before them.
export var MANIFEST = "manifest.txt";
export var MANIFEST_MAGIC = "espruino-ota/2";
export var MANIFEST_PAD = 64; // the block size of SHA-1 and SHA-256
export var MAX_MANIFEST = 16384;

// Where line k (0: the header) of a manifest starts, or -1 if it has fewer lines.
export function lineStart(text: string, k: number): number {
  for (var p = 0; k > 0 && p >= 0; k--) {
    p = text.indexOf("\n", p);
    if (p >= 0) p++;
  }
  return p;
}

// Line k of a manifest split at its spaces ([] past the last whole line). A file's line
// gives [size, sha256, sha1, crc32, name...]: its name is fields 4 on, joined by " ".
export function manifestLine(text: string, k: number): string[] {
  var p = lineStart(text, k), e = p < 0 ? -1 : text.indexOf("\n", p);
  return e < 0 ? [] : text.substring(p, e).split(" ");
}

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
  sha1: string;
  crc32: number;
}

export interface Manifest {
  project: string;
  version: string;
  seq: number; // release sequence number within the project, one more than the highest before
  files: ManifestFile[];
  sig?: string; // HMAC-SHA256 hex of signedText(): checked by boards with SHA-256 (ESP32)
  sig1?: string; // HMAC-SHA1 hex of the same bytes: for boards with only SHA-1 (ESP8266_4MB)
}

// The bytes a signature covers: the header and the file lines.
export function signedText(m: Manifest): string {
  var s = MANIFEST_MAGIC + " " + m.project + " " + m.version + " " + m.seq + " " + m.files.length + "\n";
  for (var i = 0; i < m.files.length; i++) {
    var f = m.files[i];
    s += f.size + " " + f.sha256 + " " + f.sha1 + " " + f.crc32 + " " + f.name + "\n";
  }
  return s;
}

export function manifestText(m: Manifest): string {
  return signedText(m) + (m.sig !== undefined ? m.sig + " " + m.sig1 + "\n" : "");
}

function decimal(s: string | undefined): number {
  return s !== undefined && /^(0|[1-9][0-9]*)$/.test(s) ? +s : -1;
}

function isHex(v: string | undefined, n: number) {
  return typeof v == "string" && v.length == n && /^[0-9a-f]+$/.test(v);
}

// Reads a manifest's text into a Manifest, or returns why it is not a valid one: what the
// publisher checks, and more than a board needs (it checks only what it uses).
export function parseManifest(text: string): Manifest | string {
  var h = manifestLine(text, 0), n = decimal(h[4]), files: ManifestFile[] = [], i, f, why;
  if (h[0] != MANIFEST_MAGIC || h.length != 5) return "does not start with an \"" + MANIFEST_MAGIC + "\" header";
  why = projectError(h[1]) || versionError(h[2]);
  if (why) return "has a header whose project or version " + why;
  if (decimal(h[3]) < 0 || n < 1) return "has no valid seq and file count in its header";
  for (i = 1; i <= n; i++) {
    f = manifestLine(text, i);
    var name = f.slice(4).join(" "), size = decimal(f[0]), crc = decimal(f[3]);
    if (f.length < 5) return "has fewer file lines than its header says";
    why = nameError(name);
    if (why) return "names a file that " + why + ": \"" + name + "\"";
    for (var j = 0; j < files.length; j++) if (files[j].name == name) return "names \"" + name + "\" twice";
    if (size < 1) return "gives \"" + name + "\" no valid size";
    if (!isHex(f[1], 64) || !isHex(f[2], 40) || crc < 0 || crc > 4294967295) return "gives \"" + name + "\" no valid sha256, sha1 and crc32";
    files.push({ name: name, size: size, sha256: f[1], sha1: f[2], crc32: crc });
  }
  var m: Manifest = { project: h[1], version: h[2], seq: decimal(h[3]), files: files };
  var end = lineStart(text, n + 1);
  if (end < text.length) {
    var s = manifestLine(text, n + 1);
    if (s.length != 2 || !isHex(s[0], 64) || !isHex(s[1], 40) || lineStart(text, n + 2) != text.length) return "has something other than one signature line after its files";
    m.sig = s[0];
    m.sig1 = s[1];
  }
  return m;
}
