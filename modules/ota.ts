// espruino-ota: over-the-air updates from a static web server.
//
//   require("ota").update({host: "http://192.168.2.100", project: "sample", files: [".bootcde"]});
//
// The life of an update, one state at a time (as in ESP-IDF's esp_https_ota):
//   CHECK   GET <project>/version; the same as installed -> done, nothing touched
//   PLAN    GET the release's manifest (files, sizes, digests, signature), or take
//           opts.files when there is none; check a signature against opts.key, and
//           that the release fits in free Storage
//   STAGE   stream file i into Storage file STAGE + T + i, in the copy set T the running
//           release does not use: pre-sized from Content-Length, written chunk by
//           chunk, so RAM use does not grow with file size
//   VERIFY  every staged file, read back from flash: its size, and with a manifest
//           its SHA-256 (ESP32), SHA-1 (ESP8266_4MB) or CRC-32 (ESP8266_BOARD)
//   COMMIT  write the journal: from this write on, the next boot installs the release
//   RESET   report, then reset; the boot stage (boot.ts) copies the staged files over
//           the live ones before any app code runs, records the version and removes
//           the journal
//   PENDING the new release runs on trial until confirm() or confirmAfter ms; an
//           uncaught exception, or maxBoots starts without confirmation, makes the
//           boot stage restore the previous release from its kept copy set
// A power cut before COMMIT leaves the old release (the boot stage removes stray
// copies); after it, the boot stage finishes the install, however often it is cut.
//
// Espruino traps handled here (see docs): statusCode is a String; http has no timeout
// and no abort (req.clsNow closes the socket); a truncated body ends without error;
// http.get throws synchronously on DNS or connect failure; HTTPS ends with a benign
// 'error' -30848; only one TLS connection fits, so the next request waits for a new tick.
import {
  BOOT, BOOT_COUNT, STATE, JOURNAL, STAGE, PENDING, LAST_ERROR, COMPACT, MANIFEST_FILE, MAX_MANIFEST,
  LAYOUTS, MAX_REDIRECTS, DEFAULT_TIMEOUT,
  E_OPTS, E_BUSY, E_NET, E_TIMEOUT, E_HTTP, E_REDIRECT, E_VERSION, E_SIZE, E_NAME, E_SPACE, E_FLASH,
  E_MANIFEST, E_HASH, E_SIG, E_REJECTED, MANIFEST, manifestError, canonical,
  H_VERSION, H_BOARD, H_FIRMWARE, H_ID,
  versionError, nameError, versionUrl, fileUrl, isStage,
} from "./formats.ts";

declare var exports: any;
declare var require: (name: string) => any;
declare var E: any;
declare var url: any;
declare var btoa: (s: string) => string;
declare var load: () => void;
declare var process: any;
declare var getSerial: any;
// The boot stages' sources (.boot0, .bootPowerOn) and their CRC-32s, injected by scripts/build.ts.
declare var __BOOT__: string;
declare var __COUNT__: string;
declare var __BOOT_CRC__: number;
declare var __COUNT_CRC__: number;

var S = require("Storage");
var busy = false;

function fail(code: string, msg: string) {
  var e: any = new Error("ota: " + msg);
  e.code = code;
  return e;
}

// Bytes a Storage file of n bytes takes: a 32-byte header, data padded to 4.
function room(n: number) {
  return 32 + ((n + 3) & ~3);
}

function state() {
  return S.readJSON(STATE, 1) || {};
}

function version(): string | undefined {
  return state().v;
}

// Marks the running release as good, so no later start rolls it back. Returns whether
// it was pending.
function confirm() {
  var p = S.read(PENDING) !== undefined;
  if (p) S.erase(PENDING);
  return p;
}

function status() {
  var st = state(), c = S.read(PENDING) || "";
  return {
    version: st.v, previous: st.p, pending: !!c,
    boots: c.length - c.split("\xFF").length + 1, lastError: S.read(LAST_ERROR),
  };
}

// Checks opts once and builds what every request needs.
// Returns an Error, or the request context {o: opts, h: headers, st: STATE record,
// v: installed version, t: timeout}.
function prepare(o: any) {
  if (!o || !o.host || !o.project) return fail(E_OPTS, "opts.host and opts.project are required");
  if (!o.user != !o.password) return fail(E_OPTS, "give both opts.user and opts.password, or neither");
  if (o.layout && LAYOUTS.indexOf(o.layout) < 0) return fail(E_OPTS, "opts.layout must be \"prefix\" or \"subdir\"");
  if (o.reset && ["hard", "soft", "none"].indexOf(o.reset) < 0) return fail(E_OPTS, "opts.reset must be \"hard\", \"soft\" or \"none\"");
  var h: any = {};
  if (o.user) h.Authorization = "Basic " + btoa(o.user + ":" + o.password);
  var st = state(), v = st.v;
  if (v) h[H_VERSION] = v;
  h[H_BOARD] = process.env.BOARD;
  h[H_FIRMWARE] = process.env.VERSION;
  if (typeof getSerial == "function") h[H_ID] = getSerial();
  return { o: o, h: h, st: st, v: v, t: o.timeout || DEFAULT_TIMEOUT };
}

// Transport: GET url and stream the body. Nothing else touches http.
//   head(len) runs once a 200 arrives (len: Content-Length, or -1 if none) and may
//     return an Error to stop;
//   data(chunk, offset) gets each chunk in order and may return an Error to stop;
//   done(err, count) runs once, on a fresh tick after the socket is closed.
// Redirects are followed up to MAX_REDIRECTS times; `hops` counts them.
function get(c: any, u: string, head: any, data: any, done: any, hops?: number) {
  hops = hops || 0;
  var req: any, len = -1, n = 0, over = false, timer = 0, loc: any;
  // Espruino's clearTimeout() throws for a timer that already ran, and without an id
  // clears every timer the app has, so `timer` is 0 whenever none of ours is pending.
  function stopTimer() {
    if (timer) clearTimeout(timer);
    timer = 0;
  }
  function end(err?: any) {
    if (over) return;
    over = true;
    stopTimer();
    if (req) req.clsNow = true; // Espruino's only way to close a request early
    setTimeout(function () {
      if (!err && loc) return get(c, loc, head, data, done, hops! + 1);
      done(err, n);
    }, 1);
  }
  function arm() {
    stopTimer();
    timer = <any>setTimeout(function () {
      timer = 0;
      end(fail(E_TIMEOUT, "no data from " + u + " for " + c.t + " ms"));
    }, c.t);
  }
  var p = url.parse(u);
  p.headers = c.h;
  arm();
  try {
    req = require("http").get(p, function (res: any) {
      arm();
      var st = res.statusCode, h = res.headers, k, e;
      if (st != "200") {
        if (["301", "302", "303", "307", "308"].indexOf(st) < 0) {
          e = fail(E_HTTP, "HTTP " + st + " for " + u);
          e.status = st; // lets update() tell a missing manifest (404) from a failure
          return end(e);
        }
        for (k in h) if (k.toLowerCase() == "location") loc = h[k];
        if (!loc || hops! >= MAX_REDIRECTS) return end(fail(E_REDIRECT, "too many redirects, or none with a Location, at " + u));
        if (loc.charAt(0) == "/") loc = u.match(/^[a-z]+:\/\/[^\/]*/)![0] + loc;
        return end();
      }
      for (k in h) if (k.toLowerCase() == "content-length") len = +h[k];
      e = head(len);
      if (e) return end(e);
      res.on("data", function (d: string) {
        if (over) return;
        arm();
        if (len >= 0 && n + d.length > len) return end(fail(E_SIZE, u + " sent more than its Content-Length of " + len));
        e = data(d, n);
        n += d.length;
        if (e) end(e);
      });
      res.on("close", function () {
        if (len >= 0 && n != len) return end(fail(E_SIZE, u + " ended after " + n + " of " + len + " bytes"));
        end();
      });
    });
    req.on("error", function (e: any) {
      // -30848: mbedTLS close-notify, how every HTTPS response ends
      if (e.code != -30848) end(fail(E_NET, (e.message || "error " + e.code) + " from " + u));
    });
  } catch (e: any) {
    end(fail(E_NET, e.message + " (" + u + ")"));
  }
}

// Reads the server's version file and checks that it can name a release.
function latest(c: any, done: any) {
  var u = versionUrl(c.o.host, c.o.project), s = "";
  get(c, u, function () {}, function (d: string) {
    s += d;
    if (s.length > 200) return fail(E_VERSION, "version file at " + u + " is too long");
  }, function (err: any) {
    if (err) return done(err);
    s = s.trim();
    var why = versionError(s);
    if (why) return done(fail(E_VERSION, "version file at " + u + " " + why + ": \"" + s.substr(0, 64) + "\""));
    done(null, s);
  });
}

function reset(o: any) {
  setTimeout(function () {
    if (o.reset == "soft") load();
    else if (o.reset != "none") E.reboot();
  }, 100);
}

// Runs job(cb) once at a time, and reports through both cb and a Promise.
function run(cb: any, job: any) {
  var p = new Promise(function (ok, no) {
    if (busy) return no(fail(E_BUSY, "an update or check is already running"));
    busy = true;
    job(function (err: any, r: any) {
      busy = false;
      if (err) no(err);
      else ok(r);
    });
  });
  if (cb) p.then(function (r) { cb(null, r); }, cb);
  return p;
}

// Asks the server whether a release other than the installed one is live and, if so,
// resets per opts.reset so that the boot code's update() installs it.
function check(o: any, cb?: any) {
  return run(cb, function (done: any) {
    var c: any = prepare(o);
    if (!c.o) return done(c);
    latest(c, function (err: any, l: string) {
      if (err) return done(err);
      var r = { available: l != c.v && l != c.st.x, installed: c.v, latest: l };
      done(null, r);
      if (r.available) reset(o);
    });
  });
}

function update(o: any, cb?: any) {
  return run(cb, function (done: any) {
    var c: any = prepare(o);
    if (!c.o) return done(c);
    var files = o.files, i, why;
    for (i = 0; files && i < files.length; i++) {
      why = nameError(files[i]) || (files.indexOf(files[i]) < i ? "is listed twice" : "");
      if (why) return done(fail(E_NAME, "file name \"" + files[i] + "\" " + why));
    }
    // The strongest digest the firmware has: SHA-256 (ESP32), SHA-1 (ESP8266_4MB),
    // else CRC-32 (ESP8266_BOARD has no crypto module). HK is its manifest key.
    var C: any, H: any, HK = "crc32";
    try {
      C = require("crypto");
      H = C.SHA256 || C.SHA1;
      HK = C.SHA256 ? "sha256" : "sha1";
    } catch (e) {}
    if (o.key && !H) return done(fail(E_OPTS, "this board has neither SHA-256 nor SHA-1, so it cannot check a signed release (opts.key)"));
    var j = S.readJSON(JOURNAL, 1);
    if (j && j.f) {
      // Staged and committed by an earlier call: the next boot installs it.
      done(null, { updated: true, version: j.v, previous: j.p });
      return reset(o);
    }
    // need: room still needed once the file being staged is in: an install copy of
    // each file staged so far, the journal and the state record.
    var ver: string, m: any, sizes: number[] = [], k = 0, need: number;
    // The release is staged into the copy set the running release does not use; with
    // keep, that staged set stays as this release's copy, and the running release's
    // set stays too, so that the boot stage can roll back to it.
    var st = c.st, T = st.s == "a" ? "b" : "a", keep = o.keep !== false;
    var maxBoots = o.maxBoots === undefined ? 3 : o.maxBoots;

    function hex(ab: any) {
      var u = new Uint8Array(ab), h = "";
      for (var n = 0; n < u.length; n++) h += (u[n] < 16 ? "0" : "") + u[n].toString(16);
      return h;
    }
    // RFC 2104 over the firmware's one-shot hash; 64 is the block size of SHA-1 and SHA-256.
    function hmac(key: string, msg: string) {
      if (key.length > 64) key = E.toString(new Uint8Array(H(key)));
      var ip = "", op = "", n, b;
      for (n = 0; n < 64; n++) {
        b = key.charCodeAt(n) || 0;
        ip += String.fromCharCode(b ^ 0x36);
        op += String.fromCharCode(b ^ 0x5c);
      }
      return hex(H(op + E.toString(new Uint8Array(H(ip + msg)))));
    }
    // Empties set T (an older release's copies, or an interrupted download); without
    // keep, the running release's copies go too.
    function clean() {
      S.list().forEach(function (f: string) {
        if (isStage(f) && (!keep || f.charAt(STAGE.length) == T)) S.erase(f);
      });
    }
    function stop(err: any) {
      clean();
      done(err);
    }
    // Fails unless `bytes` more fit without compaction: compacting moves files, which
    // garbles code running from them, so it is left to the boot stage's next start.
    function space(bytes: number) {
      var free = S.getFree(), fs;
      if (free >= bytes) return;
      fs = S.getStats();
      if (fs.freeBytes + fs.trashBytes >= bytes) S.write(COMPACT, "1");
      return fail(E_SPACE, "release needs " + bytes + " bytes of Storage, " + free + " are free" +
        (fs.trashBytes ? "; Storage is compacted at the next boot" : "") +
        (keep && st.s ? "; keep: false drops the copy kept for a rollback" : ""));
    }

    // CHECK
    latest(c, function (err: any, v: string) {
      if (err) return done(err);
      ver = v;
      if (ver == c.v) return done(null, { updated: false, version: ver, previous: st.p });
      if (ver == st.x) return done(fail(E_REJECTED, ver + " was rolled back on this board (" + S.read(LAST_ERROR) + "); publish a new version"));
      try {
        // Compared by CRC, so the boot stages' code (literals here: a module-level string
        // would stay in RAM while the app runs) is only built in RAM when it is written.
        if (E.CRC32(S.read(BOOT) || "") != __BOOT_CRC__) S.write(BOOT, __BOOT__);
        if (E.CRC32(S.read(BOOT_COUNT) || "") != __COUNT_CRC__) S.write(BOOT_COUNT, __COUNT__);
      } catch (e: any) {
        return done(fail(E_FLASH, "cannot write the boot stage: " + e.message));
      }
      // Set T may hold the copies a pending release would roll back to. A new version
      // on the server ends that trial before T is touched, so no start can roll back
      // onto a half-overwritten set: the new release's safety net is the running one.
      S.erase(PENDING);
      clean();
      plan();
    });

    // PLAN: a manifest, where the release has one, names the files with sizes and
    // digests; without one (404) the release is opts.files, sized by Content-Length.
    function plan() {
      var u = fileUrl(o.host, o.project, ver, MANIFEST, o.layout), ml = 0;
      // Streamed into flash like any file, so its text never sits in RAM.
      get(c, u, function (len: number) {
        if (len <= 0 || len > MAX_MANIFEST) return fail(E_MANIFEST, u + " must be 1 to " + MAX_MANIFEST + " bytes, with a Content-Length");
        ml = len;
      }, function (d: string, at: number) {
        try {
          S.write(MANIFEST_FILE, d, at, ml);
        } catch (e: any) {
          return fail(E_FLASH, "writing the manifest: " + e.message);
        }
      }, function (err: any) {
        if (!err) m = S.readJSON(MANIFEST_FILE, 1);
        S.erase(MANIFEST_FILE);
        if (err && err.status != "404") return done(err);
        if (!err) {
          why = manifestError(m) || (m.version != ver ? "is for version \"" + m.version + "\"" : "");
          if (why) return done(fail(E_MANIFEST, u + " " + why));
          files = m.files.map(function (f: any) { sizes.push(f.size); return f.name; });
        }
        if (o.key) {
          if (!m) return done(fail(E_SIG, "opts.key needs a signed release, and " + ver + " has no manifest"));
          var sig = m[HK == "sha256" ? "sig" : "sig1"];
          if (!sig || sig != hmac(o.key, canonical(ver, m.files)))
            return done(fail(E_SIG, "the manifest of " + ver + (sig ? " has a wrong signature" : " is not signed") + "; nothing was installed"));
        }
        if (!files || !files.length) return done(fail(E_OPTS, "release " + ver + " has no manifest, so opts.files must list its Storage files"));
        need = room(200 + 32 * files.length) + room(200);
        var total = need;
        for (i = 0; i < sizes.length; i++) total += 2 * room(sizes[i]);
        why = space(total);
        if (why) return done(why);
        next();
      });
    }

    // STAGE file k into STAGE + T + k
    function next(): any {
      if (k == files.length) return verify();
      var name = STAGE + T + k, size = 0;
      get(c, fileUrl(o.host, o.project, ver, files[k], o.layout), function (len: number) {
        if (len <= 0) return fail(E_SIZE, files[k] + ": the server must send a Content-Length, and the file must not be empty");
        if (m && len != sizes[k]) return fail(E_SIZE, files[k] + " is " + len + " bytes on the server, the manifest says " + sizes[k]);
        need += room(len);
        size = sizes[k] = len;
        return space(need + room(len));
      }, function (d: string, at: number) {
        try {
          S.write(name, d, at, size);
        } catch (e: any) {
          return fail(E_FLASH, "writing " + files[k] + ": " + e.message);
        }
        if (o.onProgress) o.onProgress(files[k], at + d.length, size);
      }, function (err: any) {
        if (err) return stop(err);
        k++;
        next();
      });
    }

    // VERIFY what is in flash, not what was received: size always, digest with a manifest.
    function verify() {
      for (i = 0; i < files.length; i++) {
        var d = S.read(STAGE + T + i), want, got;
        if (!d || d.length != sizes[i]) return stop(fail(E_HASH, files[i] + " was not stored whole"));
        if (m) {
          want = m.files[i][HK];
          got = H ? hex(H(d)) : E.CRC32(d);
          if (got != want) return stop(fail(E_HASH, files[i] + ": " + HK + " of the download is " + got + ", the manifest says " + want + "; nothing was installed"));
        }
      }
      commit();
    }

    // COMMIT: from this write on, the next start installs the release.
    function commit() {
      try {
        S.writeJSON(JOURNAL, {
          v: ver, p: c.v, s: T, f: files, g: st.f, k: keep ? 1 : 0,
          // A rollback needs the running release's copies: without them nothing is pending.
          o: keep ? st.s : undefined, m: keep && st.s ? maxBoots : 0,
          a: o.confirmAfter === undefined ? 60000 : o.confirmAfter,
        });
      } catch (e: any) {
        S.erase(JOURNAL);
        return stop(fail(E_FLASH, "cannot write the install journal: " + e.message));
      }
      done(null, { updated: true, version: ver, previous: c.v });
      reset(o);
    }
  });
}

exports.update = update;
exports.check = check;
exports.version = version;
exports.confirm = confirm;
exports.status = status;
