// The one definition of every format that the device and the publisher share:
// Storage names, the keys of stored JSON, legal versions and file names, URL layouts
// and error codes. The device bundle compiles this file in; tools/ import it.
// Device rules apply: ES5 only, no regex {n} quantifiers or lookarounds.

// Storage file names owned by the updater. All start with ".ota" except the boot
// stages, which must have the names Espruino runs at start-up.
export var BOOT = ".boot0"; // boot stage: installs or rolls back before app code runs, at every start
export var BOOT_COUNT = ".bootPowerOn"; // counts real starts while a release is pending (power-on, E.reboot(), resets)
export var STATE = ".otav"; // installed release: STATE keys below
export var JOURNAL = ".otaj"; // install journal: once written, the next start installs (JOURNAL keys below)
export var STAGE = ".ota_"; // file i of a release kept in copy set c ("a" or "b") is STAGE + c + i
export var PENDING = ".otan"; // while a release is pending: one byte per start, "E" after an uncaught exception
export var LAST_ERROR = ".otae"; // why the last rollback happened, kept across starts
export var COMPACT = ".otac"; // asks the boot stage to compact Storage before app code runs
export var MANIFEST_FILE = ".otam"; // the release's manifest while update() plans: parsed from flash, not RAM
export var MAX_MANIFEST = 16384;

// Keys of STATE and JOURNAL, one letter each because every key costs flash and RAM:
//   v  version (STATE: installed; JOURNAL: the version to install)
//   p  previous version
//   s  copy set holding this release's files (absent when not kept)
//   o  copy set holding the previous release's files, for a rollback (absent when none)
//   f  this release's Storage names, in order: file i is kept as STAGE + s + i
//   g  the previous release's Storage names (files it had and this one drops are deleted)
//   a  confirmAfter, ms (STATE, while pending)
//   x  a version that was rolled back; update() does not install it again
//   m  JOURNAL: bytes of the PENDING counter to create (maxBoots), 0: not pending
//   k  JOURNAL: 1 to keep copy set s after the install
//   e  JOURNAL: text for LAST_ERROR (a rollback's reason)

export function isStage(n: string) {
  return n.indexOf(STAGE) == 0;
}

export var MAX_NAME = 28; // Storage silently truncates longer names
export var MAX_VERSION = 64;
// Versions go into URLs and Storage names, so only URL- and name-safe characters.
export var VERSION_RE = /^[A-Za-z0-9._+-]+$/;

export var LAYOUTS = ["prefix", "subdir"];

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
export var E_REJECTED = "EREJECTED"; // the server offers a version that was rolled back here
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

export var MAX_REDIRECTS = 3;
export var DEFAULT_TIMEOUT = 5000;

// Returns why `v` cannot be a version, or "" if it can.
export function versionError(v: string): string {
  if (!v) return "is empty";
  if (v.length > MAX_VERSION) return "is longer than " + MAX_VERSION + " characters";
  if (!VERSION_RE.test(v)) return "may only hold A-Z a-z 0-9 . _ + -";
  return "";
}

export var MAX_PROJECT = 64;
// A project is a folder path on the server and goes into every URL unescaped, so only
// URL-safe characters, in "/"-separated segments none of which is "." or "..".
var PROJECT_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

// Returns why `p` cannot be a project, or "" if it can.
export function projectError(p: string): string {
  if (!p) return "is empty";
  if (p.length > MAX_PROJECT) return "is longer than " + MAX_PROJECT + " characters";
  if (!PROJECT_RE.test(p)) return "may only hold A-Z a-z 0-9 . _ - in /-separated folders that do not start with \".\"";
  return "";
}

// Returns why `n` cannot be a file of a release, or "" if it can.
export function nameError(n: string): string {
  if (typeof n != "string" || !n) return "is empty";
  if (n.length > MAX_NAME) return "is longer than " + MAX_NAME + " characters";
  // Storage strips "x:" as a drive letter, so "a:foo" would land as "foo".
  if (n.charAt(1) == ":") return "has ':' as its second character";
  // A newline would make the signed canonical text of a manifest ambiguous.
  if (n.indexOf("\n") >= 0) return "holds a newline";
  if (n == BOOT || n == BOOT_COUNT || n.indexOf(".ota") == 0) return "is reserved for the updater";
  return "";
}

// <project>/VERSION_FILE names the live release: the one switch for the whole fleet.
export var VERSION_FILE = "version";

// URL of the version file.
export function versionUrl(host: string, project: string): string {
  return host + "/" + project + "/" + VERSION_FILE;
}

// Path of one file of a release below the server root, in either of micropython_ota's
// layouts: prefix: <project>/<ver>_<file>; subdir: <project>/<ver>/<file>.
export function filePath(project: string, ver: string, name: string, layout?: string): string {
  return project + "/" + ver + (layout == "subdir" ? "/" : "_") + name;
}

// URL of one file of a release.
export function fileUrl(host: string, project: string, ver: string, name: string, layout?: string): string {
  return host + "/" + filePath(project, ver, encodeURIComponent(name), layout);
}

// Identity headers sent with every request, so a server can log devices or route
// staged rollouts: installed version, board (process.env.BOARD), firmware
// (process.env.VERSION) and device id (getSerial()).
export var H_VERSION = "X-Ota-V";
export var H_BOARD = "X-Ota-B";
export var H_FIRMWARE = "X-Ota-F";
export var H_ID = "X-Ota-Id";

// A release may carry a manifest named like any other file of the release:
// <project>/<ver>_manifest.json (prefix) or <project>/<ver>/manifest.json (subdir).
// {"version", "files": [{"name", "size", "sha256", "sha1", "crc32"}], "sig"}:
// digests are lowercase hex, crc32 an unsigned integer, size in bytes.
export var MANIFEST = "manifest.json";

var HEX_RE = /^[0-9a-f]+$/;

function hexError(v: any, n: number) {
  return typeof v != "string" || v.length != n || !HEX_RE.test(v);
}

// Returns why parsed JSON `m` is not a valid manifest, or "" if it is. Files must be
// storable on a board (Storage cannot hold an empty file) and named once.
export function manifestError(m: any): string {
  if (!m) return "is not JSON";
  if (typeof m.version != "string" || versionError(m.version)) return "has no valid \"version\"";
  var fs = m.files, i, f, why;
  if (!Array.isArray(fs) || !fs.length) return "has no \"files\"";
  for (i = 0; i < fs.length; i++) {
    f = fs[i] || {};
    why = nameError(f.name);
    if (why) return "names a file that " + why + ": \"" + f.name + "\"";
    for (var j = 0; j < i; j++) if (fs[j].name == f.name) return "names \"" + f.name + "\" twice";
    if (typeof f.size != "number" || f.size < 1 || f.size % 1) return "gives \"" + f.name + "\" no valid \"size\"";
    if (hexError(f.sha256, 64) || hexError(f.sha1, 40)) return "gives \"" + f.name + "\" no valid \"sha256\" and \"sha1\"";
    if (typeof f.crc32 != "number" || f.crc32 < 0 || f.crc32 > 4294967295 || f.crc32 % 1) return "gives \"" + f.name + "\" no valid \"crc32\"";
  }
  return "";
}

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
  sha1: string;
  crc32: number;
}

// The exact bytes that "sig" authenticates (HMAC-SHA256, or HMAC-SHA1 on boards
// with only SHA-1). A line format rather than JSON text, because Espruino's and
// Node's JSON.stringify differ (key order, escapes) and both sides must agree
// byte for byte.
export function canonical(version: string, files: ManifestFile[]): string {
  var s = "espruino-ota manifest 1\n" + version + "\n";
  for (var i = 0; i < files.length; i++) {
    var f = files[i];
    s += f.name + "\n" + f.size + " " + f.sha256 + " " + f.sha1 + " " + f.crc32 + "\n";
  }
  return s;
}
