// The boot stage, stored as .boot0 (by npm run flash, or by update() from a release that
// carries it). Espruino runs it at every start (power-on, E.reboot(), load(), reset())
// before .bootcde, so no app code ever runs from a file being rewritten. In order:
//   COUNT     a real start, while a release is pending;
//   ROLLBACK  a pending release that failed (an uncaught exception, or maxBoots starts without
//             confirm()) gets a journal that installs the previous release from its copies;
//   INSTALL   a journal (from update(), or that rollback): copy each file from its copy set
//             over the live name, delete the files the old release had and this one drops,
//             start the PENDING counter, store the journal as STATE, remove the journal;
//   CLEAN     remove what an interrupted download left: copies no release needs, a manifest;
//   GUARD     while a release is pending: confirm it after confirmAfter ms, and turn an
//             uncaught exception into a rollback;
//   COMPACT   when update() asked for it and nothing is pending.
// Every step is idempotent: a power cut anywhere here just means it runs again. It never
// writes BOOT or BOOT_COUNT: never the file it runs from (update() installs those).
//
// Its shape is its RAM budget. ROLLBACK to CLEAN run inside a function whose variables are
// freed when it returns. What stays while the app runs is only the GUARD: a listener defined
// at the top level (one defined inside that function would keep all its variables alive) and
// a timer whose callback is a string (evaluated from RAM when it fires, so it outlives a
// rewrite of this file; a function from this file would die with it). It imports constants
// only: the build inlines them, where an imported function would become a global.
import { BOOT, BOOT_COUNT, STATE, JOURNAL, STAGE, STAGE_RE, PENDING, LAST_ERROR, COMPACT, MANIFEST_FILE, POWER_ON, type StateRecord, type JournalRecord } from "./formats.ts";

declare var global: { [name: string]: any };

(function (): boolean {
  var S = require("Storage"), st: StateRecord = S.readJSON(STATE, true) || {}, j: JournalRecord | undefined = S.readJSON(JOURNAL, true),
    counter = S.read(PENDING), stages = [BOOT, BOOT_COUNT], i, n, o, from, to;

  // COUNT a real start (BOOT_COUNT marked it) against a pending release: one byte per
  // start in the pre-sized counter, so no file is rewritten; then read it again, rather than
  // count on the string from Storage.read being a live view of the file (it is on 2v29)
  if (global[POWER_ON] && counter !== undefined && (i = counter.indexOf("\xFF")) >= 0) {
    S.write(PENDING, "b", i);
    counter = S.read(PENDING);
  }
  delete global[POWER_ON];

  // ROLLBACK
  if (!(j && j.f) && counter !== undefined && (counter.indexOf("E") >= 0 || counter.indexOf("\xFF") < 0)) {
    if (st.o)
      S.writeJSON(JOURNAL, (j = {
        v: st.p, p: st.v, c: st.o, s: st.o, f: st.g, g: st.f, x: st.v, q: st.q,
        e: "rolled back " + st.v + " to " + st.p + ": " +
          (counter.indexOf("E") >= 0 ? S.read(LAST_ERROR) || "uncaught (Storage full)" : "started " + (counter.length - 1) + " times without confirm()"),
      }));
    else S.erase(PENDING); // nothing kept to go back to
  }

  // INSTALL
  if (j && j.f) {
    for (i = 0; i < j.f.length; i++) {
      from = STAGE + j.c + i;
      to = j.f[i];
      // A file a cut run already copied whole is left alone: flash wears with each write.
      if (stages.indexOf(to) < 0 && S.read(to) !== S.read(from)) {
        n = S.read(from)!.length;
        // Each 256-byte piece is copied into RAM by E.toUint8Array, which allocates a new
        // array and copies byte by byte (jswrap_espruino_toUint8Array in Espruino's
        // src/jswrap_espruino.c; seen on 2v29: a later write does not show through it). A
        // Storage.read string points into memory-mapped flash on ESP boards, and so does
        // E.toString of it (it returns that string); the ESP8266's flash write, handed such
        // a pointer, reboots the board (Espruino issues #1457, #1912). 256 bytes: below an
        // HTTP chunk, so the download sets the RAM peak.
        for (o = 0; o < n; o += 256) S.write(to, E.toUint8Array(S.read(from, o, 256)!), o, n);
      }
    }
    for (i = 0; j.g && i < j.g.length; i++) if (stages.indexOf(to = j.g[i]) < 0 && j.f.indexOf(to) < 0) S.erase(to);
    S.erase(PENDING);
    // One byte per start: this one, then each later real start until confirmed. Once the
    // maxBoots + 1 bytes are full, the release has had its maxBoots starts.
    if (j.m) S.write(PENDING, "b", 0, j.m + 1);
    if (j.e) S.write(LAST_ERROR, j.e);
    S.writeJSON(STATE, (st = j));
    S.erase(JOURNAL);
  }

  // CLEAN: copies in a set that neither this release nor the previous one owns are an
  // interrupted download, or a release that was rolled back; so is a manifest.
  S.erase(MANIFEST_FILE);
  S.list(STAGE_RE).forEach(function (f) {
    n = f.charAt(STAGE.length);
    if (n != st.s && n != st.o) S.erase(f);
  });

  // GUARD, the timer: confirm() by itself after confirmAfter ms
  counter = S.read(PENDING);
  if (counter !== undefined && st.a) setTimeout("require('Storage').erase('" + PENDING + "')", st.a);
  return counter !== undefined;
})()
  ? process.on("uncaughtException", function () {
    // It is listeners[0] (this file registers it before any app code runs), and the error is
    // arguments[0]: a name for either would cost a JsVar for as long as it lives.
    var S = require("Storage"), counter = S.read(PENDING), listeners = process["#onuncaughtException"]!, e = arguments[0];
    if (counter === undefined) {
      // Confirmed (or the trial ended): stop guarding, and let Espruino report the error as
      // usual; after removeListener it would drop this and every later error silently.
      // update() calls it so, with no error, before it rewrites this file (its COMMIT).
      if (listeners.length > 1) return process.removeListener("uncaughtException", listeners[0]);
      process.removeAllListeners("uncaughtException");
      throw e;
    }
    // Record why, mark the start as failed, and reboot: the next start rolls back. The mark
    // goes in even when the record does not fit (Storage full): it is written in place, into
    // the pre-sized counter, so it needs no free Storage. And reboot whatever happens: a
    // listener that throws is not called again, and nothing else would reboot (seen on 2v29).
    try {
      S.write(LAST_ERROR, "uncaught " + e);
    } finally {
      try {
        S.write(PENDING, "E", counter.indexOf("\xFF"));
      } finally {
        E.reboot();
      }
    }
  })
  // COMPACT moves files, which garbles code running from them on ESP boards. So only with
  // no guard alive, from a RAM string (eval), as the last thing this file runs: the parser
  // has already read to the end of the file when eval runs.
  : require("Storage").read(COMPACT) !== undefined &&
    eval("require('Storage').erase('" + COMPACT + "');require('Storage').compact()");
