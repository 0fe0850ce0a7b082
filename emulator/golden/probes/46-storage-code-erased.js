// Functions keep their code in the Storage file that defined them (module, eval of a read).
// Once that file is erased or replaced, calling them throws "Function code is null, not a
// string", also as a timer callback or an event listener. Rewriting identical content (a
// write Espruino skips) keeps them. (Probe by the emulator engineer, issue 14.)
var S = require("Storage");
function attempt(label, f) { try { print(label, "returned", f()); } catch (e) { print(label, "threw", e.message); } }
S.write("m", 'exports.f = function () { return "m.f alive"; }; global.g = function () { return "g alive"; };');
var m = require("m");
attempt("m.f before", function () { return m.f(); });
S.write("m", 'exports.f = function () { return "m.f alive"; }; global.g = function () { return "g alive"; };');
attempt("m.f after identical rewrite", function () { return m.f(); });
S.write("other", 'exports.h = function () { return "other.h alive"; };');
var other = require("other");
S.erase("m");
attempt("m.f after erase", function () { return m.f(); });
attempt("g after erase", function () { return g(); });
attempt("other.h (its own file kept)", function () { return other.h(); });
S.write("k", 'function kf() { return "kf alive"; } function kt() { print("kt timer ran"); } function kl(v) { print("kl listener", v); }');
eval(S.read("k"));
attempt("kf before", function () { return kf(); });
var o = {};
o.on("x", kl);
setTimeout(kt, 50);
S.write("k", "var replaced = 1;");
attempt("kf after replace", function () { return kf(); });
o.emit("x", 1);
var copy = "" + "function cf() { return 'cf alive'; }";
S.write("c", copy);
eval(copy);
S.erase("c");
attempt("cf (evaluated from a RAM string) after erase", function () { return cf(); });
setTimeout(function () { print("end"); }, 500);
