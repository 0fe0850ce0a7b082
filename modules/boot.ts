// The boot stage, stored as .boot0 by update(). Espruino runs it at every start
// (power-on, E.reboot(), load(), reset()) before .bootcde, so no app code ever runs
// from a file being rewritten. It:
//   1. rolls back a pending release that failed: an uncaught exception, or maxBoots
//      starts without confirm(), by writing a journal from the previous release's copies;
//   2. applies a journal (an install from update(), or that rollback): copy each file
//      from its copy set over the live name, delete the files the old release had and
//      this one drops, start the PENDING counter, record STATE, remove the journal;
//   3. removes what an interrupted download left: copies no release needs, a manifest;
//   4. while a release is pending, confirms it after confirmAfter ms, and turns an
//      uncaught exception into a rollback.
// Every step is idempotent: a power cut anywhere here just means it runs again.
// scripts/build.ts wraps it in one function expression, so it leaves no globals.
import { STATE, JOURNAL, STAGE, PENDING, LAST_ERROR, COMPACT, MANIFEST_FILE, isStage } from "./formats.ts";

declare var require: (name: string) => any;
declare var process: any;
declare var print: any;
declare var E: any;

var S = require("Storage");
var st = S.readJSON(STATE, 1) || {};
var j = S.readJSON(JOURNAL, 1);
var c = S.read(PENDING);
var i, n, o;

if (!(j && j.f) && c !== undefined && (c.indexOf("E") >= 0 || c.indexOf("\xFF") < 0)) {
  if (st.o)
    S.writeJSON(JOURNAL, (j = {
      v: st.p, p: st.v, s: st.o, f: st.g, g: st.f, k: 1, x: st.v,
      e: "rolled back " + st.v + " to " + st.p + ": " +
        (c.indexOf("E") >= 0 ? S.read(LAST_ERROR) : "started " + (c.length - 1) + " times without confirm()"),
    }));
  else S.erase(PENDING); // nothing kept to go back to
}

if (j && j.f) {
  for (i = 0; i < j.f.length; i++) {
    var from = STAGE + j.s + i, to = j.f[i];
    // A file a cut run already copied whole is left alone: flash wears with each write.
    if (S.read(to) !== S.read(from)) {
      n = S.read(from).length;
      // 256-byte pieces: no larger than an HTTP chunk, so the download sets the RAM peak.
      // E.toString copies each piece to RAM: on ESP boards Storage.read points into
      // memory-mapped flash, which the SDK's flash write cannot take as its source.
      for (o = 0; o < n; o += 256) S.write(to, E.toString(S.read(from, o, 256)), o, n);
    }
  }
  for (i = 0; j.g && i < j.g.length; i++) if (j.f.indexOf(j.g[i]) < 0) S.erase(j.g[i]);
  S.erase(PENDING);
  // One byte per start: this one, then each later start until confirmed. Once the
  // maxBoots + 1 bytes are full, the release has had its maxBoots starts.
  if (j.m) S.write(PENDING, "b", 0, j.m + 1);
  if (j.e) S.write(LAST_ERROR, j.e);
  S.writeJSON(STATE, (st = { v: j.v, p: j.p, s: j.k ? j.s : undefined, o: j.o, f: j.f, g: j.g, a: j.a, x: j.x }));
  S.erase(JOURNAL);
}

// Copies in a set that neither this release nor the previous one owns are an interrupted
// download, or a release that was rolled back; so is a manifest left by update().
S.erase(MANIFEST_FILE);
S.list().forEach(function (f: string) {
  n = f.charAt(STAGE.length);
  if (isStage(f) && n != st.s && n != st.o) S.erase(f);
});

if (S.read(PENDING) !== undefined) {
  var h = function (e: any) {
    c = S.read(PENDING);
    if (c === undefined) return print("Uncaught " + e);
    S.write(LAST_ERROR, "uncaught " + e);
    if ((i = c.indexOf("\xFF")) >= 0) S.write(PENDING, "E", i);
    E.reboot();
  };
  process.on("uncaughtException", h);
  if (st.a)
    setTimeout(function () {
      S.erase(PENDING);
      process.removeListener("uncaughtException", h);
    }, st.a);
}

// update() asks for this when only compaction can make room. Compaction moves files,
// which would garble running code, so it happens here, before the app loads.
if (S.read(COMPACT) !== undefined) {
  S.erase(COMPACT);
  S.compact();
}
