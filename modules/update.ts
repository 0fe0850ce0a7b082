// The update state machine behind update() and check(), in the manner of ESP-IDF's
// esp_https_ota (begin, write, verify, finish). scripts/build.ts compiles this module into
// ota.min.js inside one function that ota.ts calls for each update() or check(): the
// top-level variables below are that run's state, and none of this code holds RAM between
// runs. step() runs the states in order; each download's end calls it again:
//
//   START     Check the options; read STATE. A journal an earlier run wrote -> done.
//   CHECKING  GET <project>/version into RAM. The installed version -> done, nothing touched.
//           Else GET the manifest into flash (MANIFEST_FILE).
//   PLANNING  Read the manifest where it lies: its header names this project and version; its
//           names and sizes; with opts.key its signature and seq. A release without one
//           (404) is opts.files, sized by Content-Length. Check that it fits. Until here
//           nothing on the board has changed; check() stops here.
//           BEGIN: end a pending release's trial; empty copy set `set`.
//   STAGING   For each file k: GET it into STAGE + set + k, pre-sized, chunk by chunk; VERIFY
//           it from flash (with a manifest, its digest). Then COMMIT: the boot stages if the
//           release carries new ones, then the journal: from that write on, the next start
//           installs the release (boot.ts). Then reset per opts.reset.
// A failure before the journal leaves the installed release as it was, and removes what the
// run staged. A power cut before the journal leaves the old release too (the boot stage
// removes stray copies); after it, the boot stage finishes the install.
//
// RAM is the budget that shaped this file: each function alive during a download costs
// 8 JsVars on Espruino, and 1 more per parameter (seen on 2v29), so the machine is one
// step() over explicit states, and one transport with one listener whose request state is
// module-level (one request at a time). A helper here that only one function uses is
// nested in that function by the build (scripts/build.ts, nestSingleUse): step()'s
// helpers exist only while it runs, between downloads.
//
// Espruino traps handled here (its libs/network sources, and seen on 2v29): statusCode is a String;
// http has no timeout and no abort (req.clsNow closes the socket); a truncated body ends
// without error; http.get throws at once on DNS or connect failure; HTTPS ends with a benign
// 'error' -30848; only one TLS context fits, so the next request waits for a fresh tick;
// clearTimeout() without an id clears every timer of the app; regexes have no optional
// parts and no alternation (seen on 2v29: /^https?:/ matches nothing).
import type { OtaOptions as Options, OtaError, OtaErrorCode, OtaCallback as Callback, UpdateResult, CheckResult } from "ota";
import {
  BOOT, BOOT_COUNT, STATE, JOURNAL, STAGE, STAGE_RE, PENDING, COMPACT, MANIFEST_FILE,
  MANIFEST, MANIFEST_MAGIC, MANIFEST_PAD, MAX_MANIFEST, LAYOUTS, MAX_REDIRECTS,
  DEFAULT_TIMEOUT, DEFAULT_CONFIRM_AFTER, DEFAULT_MAX_BOOTS, H_VERSION, H_BOARD, H_FIRMWARE, H_ID,
  E_OPTS, E_NET, E_TIMEOUT, E_HTTP, E_REDIRECT, E_VERSION, E_SIZE, E_NAME, E_SPACE, E_FLASH,
  E_MANIFEST, E_HASH, E_SIG, E_REJECTED, E_BOOT,
  versionRule, nameRule, versionUrl, releasePath, room, lineStart, manifestLine,
  type StateRecord,
} from "./formats.ts";

// The call: the parameters of the function scripts/build.ts wraps this module in. The
// module's last statements below start the run.
declare var opts: Options;
declare var checkOnly: boolean | undefined;
declare var finish: Callback<UpdateResult | CheckResult>;

// The states.
var START = 0, CHECKING = 1, PLANNING = 2, STAGING = 3;

// Storage, taken for each run: a module-level reference in ota.ts would cost the app 1 to 3
// JsVars for as long as it runs (the latter when it has no Storage of its own), for 63 B of flash
var S = require("Storage");

var state = START;
var st: StateRecord; // STATE as the run found it (not held while files download: read again to commit)
var seq: number | undefined; // the seq the journal records: STATE's, or the verified manifest's
var ver = ""; // CHECKING: the version file's text; then the version the server has live
var hash: ((data: string) => ArrayBuffer) | undefined; // SHA-256, else SHA-1; none on ESP8266_BOARD
var field = 3; // the digest this board checks in a manifest line: 1 sha256, 2 sha1, 3 crc32
var man: string | undefined; // the manifest's text, a view into flash: never copied to RAM
var files: string[]; // the release's Storage names, in order
var set: string; // the copy set this release is staged into: the one the running release does not use
var base: string; // the URL of the release's files, less each file's name
var need: number; // Storage the install needs beyond what is staged
var k = -1; // the file being staged
var want: number; // with a manifest: the size it gives file k
// The request in flight, one at a time: its URL, the Storage file its body goes to (none:
// RAM, `ver`) after `pad` bytes, Content-Length, bytes so far, redirects so far, where the
// last one pointed, whether it ended, and its timeout.
var at: string, into = "", pad = "", len: number, got: number, hops = 0, loc: string, over: boolean, req: HttpRequest | undefined, timer: number;
var wait: number; // ms without a byte before ETIMEOUT
var origin: string; // scheme://host[:port] of opts.host: the only one that gets `headers`
var headers: { [name: string]: string }; // Basic auth and the identity headers

// The message ends with the URL the run last asked for, if any: the one that failed, or the
// file whose checks did.
function error(code: string, msg: string | number): OtaError {
  var e = new Error("ota: " + msg + (at ? ": " + at : "")) as OtaError;
  e.code = code as OtaErrorCode;
  return e;
}

// TRANSPORT: GETs u into `into` (or RAM); nothing else touches http. Redirects are followed
// up to MAX_REDIRECTS times, without `headers` when they leave opts.host's origin, and never
// from HTTPS to HTTP. Its end calls step() on a fresh tick, after the socket is closed.
function get(u: string) {
  var p = url.parse(at = u);
  len = -1;
  got = 0;
  loc = "";
  over = false;
  p.headers = u.indexOf(origin + "/") ? {} : headers;
  timer = setTimeout(net, wait);
  try {
    req = require("http").get(p, net);
    req.on("error", net);
  } catch (x: any) {
    end(error(E_NET, x.message));
  }
}

// The transport's one listener: each function alive during a download costs 8 JsVars or
// more, so one function takes every event of a request. What it is given tells what happened:
//   an object with statusCode  the response: its headers
//   a string                   a chunk of the body
//   a boolean                  the response's 'close' (true: it ended with an error)
//   another object             the request's 'error'
//   nothing                    the timer: no byte for opts.timeout ms
function net(x?: HttpResponse | string | boolean | { code: number; message?: string }) {
  var h, m, n, e: OtaError | void = undefined;
  if (over) return;
  if (x === undefined) return end(error(E_TIMEOUT, "no data for " + wait + " ms"));
  // (never `typeof x == "object"`: swc's ES5 output of it brings a helper that uses Symbol;
  // never `"" + x == x` for a chunk: it copies the chunk, 26 JsVars a time on 2v29)
  if (x === !!x)
    // Espruino ends a truncated body like a whole one: only the count tells them apart.
    return end(len >= 0 && got != len ? error(E_SIZE, got + " of " + len + " bytes") : undefined);
  if (typeof x != "string" && !(x as HttpResponse).statusCode) {
    // -30848: mbedTLS's close-notify, how every HTTPS response ends; its 'close' follows
    x = x as { code: number; message?: string };
    if (x.code != -30848) end(error(E_NET, x.message || x.code));
    return;
  }
  clearTimeout(timer);
  timer = setTimeout(net, wait);
  if (typeof x == "string") {
    if (got + x.length > len && len >= 0) return end(error(E_SIZE, "over " + len + " bytes"));
    try {
      // with the size: a write at offset 0 without one would make a new file of this chunk
      if (into) S.write(into, x, pad.length + got, pad.length + len);
      else if ((ver += x).length > 200) return end(error(E_VERSION, "over 200 bytes"));
      got += x.length;
      if (state == STAGING && opts.onProgress) opts.onProgress(files[k], got, len);
    } catch (y: any) {
      end(error(E_FLASH, y.message));
    }
    return;
  }
  x = x as HttpResponse;
  h = x.headers;
  for (m in h) {
    n = m.toLowerCase();
    if (n == "location") loc = h[m];
    // not a number: an error, never NaN, which would pass every size check
    if (n == "content-length") len = /^[0-9]+$/.test(h[m]) ? +h[m] : -2;
  }
  n = x.statusCode;
  if (n != "200") {
    if (!/^30[12378]$/.test(n)) {
      e = error(E_HTTP, "HTTP " + n);
      e.status = n;
    } else if (!loc || hops++ >= MAX_REDIRECTS || ((loc = resolve(at, loc)), /^https:/i.test(at) && !/^https:/i.test(loc)))
      e = error(E_REDIRECT, "to " + loc);
    return end(e);
  }
  loc = "";
  try {
    e = accept();
    if (!e && into) S.write(into, pad, 0, pad.length + len);
  } catch (y: any) {
    e = error(E_FLASH, y.message);
  }
  if (e) return end(e);
  x.on("data", net);
  x.on("close", net);
}

// Ends the request in flight once; step() (or, after a redirect, the next get()) runs on a
// fresh tick, after the socket has closed (only one TLS connection fits).
function end(err?: OtaError | void) {
  if (over) return;
  over = true;
  clearTimeout(timer);
  if (req) req.clsNow = true;
  setTimeout(step, 1, err);
}

// Whether the body on its way fits what the state expects, from its Content-Length.
function accept(): OtaError | void {
  // -2: a Content-Length that is not a number, on the version file too (which may come without one)
  if (len < -1 || (state != CHECKING && len < 1)) return error(E_SIZE, len ? "no valid Content-Length" : "empty");
  // (the version file's length is checked as it comes: it may come without a Content-Length)
  if (state == CHECKING) return;
  if (state == PLANNING) return len > MAX_MANIFEST ? error(E_MANIFEST, "size") : undefined;
  if (man) return len == want ? undefined : error(E_SIZE, len + " bytes");
  // without a manifest, each file's room is checked as its size becomes known
  need += room(len);
  return space(need + room(len));
}

// RFC 3986 section 5.2: the URL a Location names, relative to the URL that answered (which
// has a path). Strings: Espruino's regexes have no optional parts.
function resolve(from: string, ref: string): string {
  var abs = /^[a-z][a-z0-9+.-]*:\/\/[^\/?]*/i, auth = from.match(abs)![0], path = from.substr(auth.length).split("?")[0], q, out: string[] = [], seg, i;
  ref = ref.split("#")[0];
  if (ref.substr(0, 2) == "//") ref = from.split(":")[0] + ":" + ref;
  // an absolute URL keeps its scheme and authority, and its path loses its dot segments too (5.2.2)
  if ((q = ref.match(abs))) {
    auth = q[0];
    ref = ref.substr(auth.length);
    if (ref.charAt(0) != "/") ref = "/" + ref;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  if (!ref || ref.charAt(0) == "?") return auth + path + (ref || from.substr(auth.length + path.length));
  if (ref.charAt(0) != "/") ref = path.substr(0, path.lastIndexOf("/") + 1) + ref;
  q = (ref + "?").indexOf("?");
  // section 5.2.4: the path without its "." and ".." segments
  seg = ref.substr(0, q).split("/");
  for (i = 0; i < seg.length; i++) {
    if (seg[i] == "..") {
      if (out.length > 1) out.pop();
    } else if (seg[i] != ".") out.push(seg[i]);
  }
  if (seg[i - 1] == "." || seg[i - 1] == "..") out.push("");
  return auth + out.join("/") + ref.substr(q);
}

// Whether the hex of `digest` is `want`, in a time that does not tell where they differ
// (an HMAC is a proof of the key).
function same(digest: ArrayBuffer, want: string): boolean {
  var b = new Uint8Array(digest), d = b.length * 2 ^ want.length, i;
  for (i = 0; i < b.length * 2; i++) d |= "0123456789abcdef".charCodeAt((b[i >> 1] >> (i & 1 ? 0 : 4)) & 15) ^ want.charCodeAt(i);
  return !d;
}

// The HMAC key XOR x, one 64-byte block: RFC 2104's inner (0x36) or outer (0x5c) pad.
function keyPad(x: number): string {
  var key = opts.key!, s = "", i;
  if (key.length > 64) key = E.toString(hash!(key));
  for (i = 0; i < 64; i++) s += String.fromCharCode((key.charCodeAt(i) || 0) ^ x);
  return s;
}

// Fails unless `bytes` more fit without compaction: compacting moves files, which garbles
// code running from them, so it is left to the boot stage's next start.
function space(bytes: number): OtaError | void {
  var free = S.getFree(), fs;
  if (free >= bytes) return;
  // (getStats() walks every file: only when the free space falls short)
  fs = S.getStats();
  if (fs.freeBytes + fs.trashBytes >= bytes) S.write(COMPACT, "1");
  return error(E_SPACE, "needs " + bytes + " bytes, " + free + " free");
}

// Reports to the caller from a timer whose callback and arguments hold nothing of this run:
// once this returns, the run's functions and state are garbage, and the caller's callback
// (and the app after it) has that RAM. An update, or a check that found one, then resets per
// opts.reset (a native function for the timer's callback, for the same reason). Whatever the
// end, the run leaves no manifest behind.
function report(err: OtaError | null, r?: UpdateResult | CheckResult) {
  S.erase(MANIFEST_FILE);
  setTimeout(finish, 0, err, r);
  if (r && ((r as UpdateResult).updated || (r as CheckResult).available) && opts.reset != "none") setTimeout(opts.reset == "soft" ? load : E.reboot, 100);
}

function step(err?: OtaError | void) {
  var i, f: any, x: any, o: any, n, l, known, stages = [BOOT, BOOT_COUNT];
  // Garbage first, at the start and after each request. Collecting also sorts Espruino's free
  // list by address, so what the run (and after it the app) allocates next goes low, and the
  // runs of contiguous JsVars that mbedTLS takes for an HTTPS connection (jsvMalloc: flat
  // strings) stay whole. Otherwise the JsVars a closed connection freed are handed out first,
  // one by one: on 2v29 the next HTTPS connection then found no run long enough in 6 to 9 of
  // 10 app layouts tried, and the interpreter stopped on an ASSERT (a release build would fail
  // the connection).
  process.memory();
  if (loc && !err) return get(loc); // a redirect
  if (state == START) {
    // check the options (x names the wrong one; the README says what each takes), read
    // STATE, and GET the version file
    o = opts;
    if (!o || !/^https*:\/\/[^\/]/i.test(o.host)) x = "host";
    else if (!o.project) x = "project";
    else if (!o.user != !o.password) x = "user and opts.password";
    else if (o.layout && LAYOUTS.indexOf(o.layout) < 0) x = "layout";
    else if (o.reset && ["hard", "soft", "none"].indexOf(o.reset) < 0) x = "reset";
    // The strongest digest the firmware has: SHA-256 (ESP32), SHA-1 (ESP8266_4MB), else
    // CRC-32 (ESP8266_BOARD has no crypto module).
    try {
      f = require("crypto");
      hash = f.SHA256 || f.SHA1;
      if (hash) field = f.SHA256 ? 1 : 2;
    } catch (e) {}
    if (!x && o.key && !hash) x = "key: no SHA-1";
    if (x) return report(error(E_OPTS, "bad opts." + x));

    wait = o.timeout || DEFAULT_TIMEOUT;
    origin = o.host.match(/^[a-z]+:\/\/[^\/]+/i)![0];
    st = S.readJSON(STATE, true) || {};
    seq = st.q;
    headers = {};
    // (process.env builds a new object at each read)
    f = process.env;
    headers[H_BOARD] = f.BOARD;
    headers[H_FIRMWARE] = f.VERSION;
    headers[H_ID] = getSerial();
    if (st.v) headers[H_VERSION] = st.v;
    if (o.user) headers.Authorization = "Basic " + btoa(o.user + ":" + o.password);
    set = st.s == "a" ? "b" : "a";
    // committed by an earlier run: the next start installs it
    f = S.readJSON(JOURNAL, true);
    if (f && f.f && !checkOnly) return report(null, { updated: true, version: f.v, previous: f.p });
    state = CHECKING;
    return get(versionUrl(o.host, o.project));
  }
  if (state == PLANNING && err && err.status == "404") {
    // no manifest: the release is opts.files (micropython_ota's way), unless it must be signed
    err = opts.key ? error(E_SIG, "unsigned") : opts.files ? undefined : error(E_OPTS, "no opts.files, no manifest");
    files = opts.files!;
    at = ""; // what fails from here on is opts.files, not anything at that URL
  } else if (state == PLANNING && !err) {
    man = S.read(MANIFEST_FILE, pad.length);
    err = readManifest();
  }
  if (!err && state == CHECKING) {
    x = ver.trim();
    if (versionRule(x)) err = error(E_VERSION, "bad version file");
  }
  if (err) {
    // stop, leaving the installed release as it was, and nothing this run staged
    if (state == STAGING) clean();
    return report(err as OtaError);
  }

  if (state == CHECKING) {
    ver = x!;
    known = ver == st.v || ver == st.x;
    if (checkOnly && (known || !opts.key)) return report(null, { available: !known, installed: st.v, latest: ver });
    if (known) return report(ver == st.v ? null : error(E_REJECTED, "rolled back here: " + ver), { updated: false, version: ver, previous: st.p });
    // the manifest goes into flash after the HMAC key's inner pad, so that its signed text is
    // hashed where it lies: no copy of it, up to 16 KB, in RAM
    state = PLANNING;
    base = opts.host + "/" + releasePath(opts.project, ver, opts.layout);
    into = MANIFEST_FILE;
    pad = opts.key ? keyPad(0x36) : "";
    hops = 0;
    return get(base + MANIFEST);
  }

  if (state == PLANNING) {
    if (checkOnly) return report(null, { available: true, installed: st.v, latest: ver });
    // Names a board can hold, each once (ENAME for opts.files, EMANIFEST for a manifest);
    // the boot stages (npm run flash writes them, or the release carries them); and room for
    // the journal and STATE (the names of this release and the last), and with a manifest
    // each file twice: its copy, and the installed file.
    need = 2 * room(200 + 32 * (files.length + (st.f || []).length));
    for (i = 0; i < files.length; i++) {
      if (nameRule(f = files[i]) || files.indexOf(f) < i) err = error(man ? E_MANIFEST : E_NAME, "bad file name: " + f);
      if (man) need += 2 * room(+manifestLine(man, i + 1)[0]);
    }
    for (i = 0; i < 2; i++) if (S.read(f = stages[i]) === undefined && files.indexOf(f) < 0) err = error(E_BOOT, "no " + f);
    err = err || space(need);
    if (err) return step(err);
    // BEGIN. Set `set` may hold the copies a pending release would roll back to: its trial
    // ends before they go, so no start can roll back onto a half-overwritten set.
    S.erase(PENDING);
    clean();
    state = STAGING;
    // STATE's file names would ride along every download; COMMIT reads it again
    st = undefined!;
  } else if (man) {
    // VERIFY file k from flash: its digest. (Its length is the Content-Length it was created
    // with, and get() counted every byte.)
    f = S.read(into)!;
    l = manifestLine(man, k + 1)[field];
    if (!(field > 2 ? l == "" + E.CRC32(f) : same(hash!(f), l))) return step(error(E_HASH, files[k]));
  }

  if (++k < files.length) {
    into = STAGE + set + k;
    pad = "";
    hops = 0;
    if (man) want = +manifestLine(man, k + 1)[0];
    return get(base + encodeURIComponent(files[k]));
  }

  st = S.readJSON(STATE, true) || {}; // unchanged since START: only the boot stage writes it
  // COMMIT. The boot stages a release carries are installed here, not by the boot stage,
  // which must never rewrite the file it runs from. Its uncaughtException listener has its
  // code in BOOT, and rewriting that file kills it ("Function code is null", seen on 2v29);
  // its trial ended at BEGIN, so it goes first: called now, it finds nothing pending and
  // removes itself as after confirm() (with removeAllListeners when it is the last, so that
  // Espruino reports errors itself again; it then rethrows the error it was given: none here).
  x = process["#onuncaughtException"];
  try {
    for (i = 0; i < files.length; i++) {
      f = STAGE + set + i;
      if (stages.indexOf(l = files[i]) >= 0 && S.read(l) !== S.read(f)) {
        if (x && ("" + x[0]).indexOf(PENDING) > 0)
          try {
            x[0]();
          } catch (e) {}
        // E.toUint8Array copies through RAM: see the boot stage's INSTALL
        for (n = S.read(f)!.length, o = 0; o < n; o += 256) S.write(l, E.toUint8Array(S.read(f, o, 256)!), o, n);
      }
    }
    x = opts.keep !== false;
    S.writeJSON(JOURNAL, {
      v: ver, p: st.v, c: set, s: x ? set : undefined, f: files, g: st.f, q: seq,
      // a rollback needs the running release's copies: without them nothing is pending
      o: x ? st.s : undefined, m: x && st.s ? (opts.maxBoots === undefined ? DEFAULT_MAX_BOOTS : opts.maxBoots) : 0,
      a: opts.confirmAfter === undefined ? DEFAULT_CONFIRM_AFTER : opts.confirmAfter,
    });
  } catch (e: any) {
    S.erase(JOURNAL);
    return step(error(E_FLASH, e.message));
  }
  report(null, { updated: true, version: ver, previous: st.v });
}

// Empties copy set `set` (an older release's copies, an interrupted download, or this run's
// when it fails); without opts.keep, every copy.
function clean() {
  S.list(STAGE_RE).forEach(function (f) {
    if (opts.keep === false || f.charAt(STAGE.length) == set) S.erase(f);
  });
}

// PLAN's reading of the manifest in flash (man); returns what is wrong with it, if anything.
function readManifest(): OtaError | void {
  var h = manifestLine(man!, 0), count = +h[4], f, i;
  // the header names what the board asked for: another project's or version's is not it
  if (MANIFEST_MAGIC + " " + opts.project + " " + ver != h.slice(0, 3).join(" ") || !/^[0-9]+$/.test(h[3] + "" + h[4]) || count < 1 || h.length != 5)
    return error(E_MANIFEST, "bad header");
  files = [];
  for (i = 1; i <= count; i++) {
    f = manifestLine(man!, i);
    if (f.length < 5 || !/^[1-9][0-9]*$/.test(f[0])) return error(E_MANIFEST, "bad line " + i);
    files.push(f.slice(4).join(" "));
  }
  if (opts.key) {
    f = manifestLine(man!, count + 1)[field - 1];
    // RFC 2104: H(outer pad + H(inner pad + text)), the inner hash over the pad and text in flash
    if (!f || !same(hash!(keyPad(0x5c) + E.toString(hash!(S.read(MANIFEST_FILE, 0, MANIFEST_PAD + lineStart(man!, count + 1))!))), f))
      return error(E_SIG, f ? "wrong signature" : "unsigned");
    // only a release newer than every signed one installed here: an old one cannot be replayed
    if (st.q! >= +h[3]) return error(E_REJECTED, "seq " + h[3] + " is not above " + st.q);
    seq = +h[3];
  }
}

step();
