// process.on("uncaughtException"): the listeners live in process["#onuncaughtException"], an
// array. Once the only listener is removed with removeListener, later uncaught errors are
// dropped without a word; removeAllListeners brings the printing back. A listener that throws
// has that error printed as Uncaught and is called again for the next error; nothing reboots.
// (Issue 14, defects 1 and 4.) Errors are thrown without a stack so that only their text prints.
function fail(m) { var e = new Error(m); delete e.stack; throw e; }
var n = 0;
function h(e) { n++; print("h", n, e.message); if (e.message === "two") fail("from h"); }
function h2(e) { print("h2", e.message); }
process.on("uncaughtException", h);
var l = process["#onuncaughtException"];
print("listeners", Array.isArray(l), l.length, l[0] === h, JSON.stringify(Object.keys(process).filter(function (k) { return k.charAt(0) === "#"; })));
// Each error comes 300 ms after the last, in its own pass of the event loop (see 66).
setTimeout(function () { fail("one"); }, 300);
setTimeout(function () { fail("two"); }, 600);
setTimeout(function () { fail("three"); }, 900);
setTimeout(function () { process.removeListener("uncaughtException", h); print("removed, length", process["#onuncaughtException"].length); }, 1200);
setTimeout(function () { fail("four (silent)"); }, 1500);
setTimeout(function () { process.on("uncaughtException", h2); fail("five"); }, 1800);
setTimeout(function () { process.removeListener("uncaughtException", h2); fail("six (silent)"); }, 2100);
setTimeout(function () { process.removeAllListeners("uncaughtException"); print("removeAll", typeof process["#onuncaughtException"]); fail("seven (printed)"); }, 2400);
setTimeout(function () { print("end, h called", n, "times"); }, 2700);
