// The boot stage, stored as .boot0 by update(). Espruino runs it at every start
// (power-on, E.reboot(), load(), reset()) before .bootcde, so it finishes a committed
// install before any app code runs, and no app code runs from a file being rewritten.
// Every step is idempotent: a power cut anywhere here just means it runs again.
// It is built as one function expression so it leaves no globals behind.
import { STATE, JOURNAL, STAGE, COMPACT, isStage } from "./formats.ts";

declare var require: (name: string) => any;

var S = require("Storage");
var j = S.readJSON(JOURNAL, 1);
if (j && j.f) {
  for (var i = 0; i < j.f.length; i++) {
    var from = STAGE + i, to = j.f[i];
    // A file a cut run already copied whole is left alone: flash wears with each write.
    if (S.read(to) !== S.read(from)) {
      var n = S.read(from).length;
      // 256-byte pieces: no larger than an HTTP chunk, so the peak RAM of an update is set by the download.
      for (var o = 0; o < n; o += 256) S.write(to, S.read(from, o, 256), o, n);
    }
  }
  S.writeJSON(STATE, { v: j.v, p: j.p });
  S.erase(JOURNAL);
}
// Staging left without a journal is an interrupted download; with one, it is now installed.
S.list().forEach(function (f: string) {
  if (isStage(f)) S.erase(f);
});
// update() asks for this when only compaction can make room. Compaction moves files,
// which would garble running code, so it happens here, before the app loads.
if (S.read(COMPACT) !== undefined) {
  S.erase(COMPACT);
  S.compact();
}
