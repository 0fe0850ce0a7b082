// Uncaught errors are reported once per pass of the event loop, after everything the pass
// ran: when two queued events (or two timers due together) both throw, only the last error
// is reported, after the pass's other output. (Without a listener, two throwing timers due
// together were sometimes both lost on the Linux build, so the probe does not rely on that.)
function fail(m) { var e = new Error(m); delete e.stack; throw e; }
var o = {};
o.on("e", function (v) { fail("event " + v); });
setTimeout(function () { o.emit("e", 1); o.emit("e", 2); print("emitted twice"); }, 100);
var n = 0;
setTimeout(function () {
  process.on("uncaughtException", function (e) { n++; print("listener", e.message); });
  setTimeout(function () { fail("y1 (lost)"); }, 10);
  setTimeout(function () { fail("y2"); }, 10);
  setTimeout(function () { print("after y1 and y2, same pass"); }, 10);
}, 150);
setTimeout(function () { print("end, listener called", n, "times"); }, 300);
