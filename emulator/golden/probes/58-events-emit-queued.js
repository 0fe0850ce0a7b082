// emit() queues the listeners: they run after the current code, with the listener array as it
// is when the event runs. on() puts a new array in "#on<event>" (enumerable); removeListener
// leaves a hole (or shortens the array when it was the last entry); removeAllListeners deletes
// the property, but an event already queued still runs the array it took.
function mk(n) { return function (v) { print(n, v, this === objs[n.charAt(0)]); }; }
var objs = {};
var A = objs.A = {}, fa = mk("A.f"); A.on("x", fa); A.emit("x", "a1"); A.on("x", mk("A.g"));
var B = objs.B = {}, fb = mk("B.f"); B.on("x", fb); B.on("x", mk("B.g")); B.emit("x", "b1"); B.removeListener("x", fb);
var C = objs.C = {}; C.on("x", mk("C.f")); C.on("x", mk("C.g")); C.emit("x", "c1"); C.removeAllListeners("x");
var D = objs.D = {}, fd = mk("D.f"); D.on("x", fd); D.emit("x", "d1"); D.removeListener("x", fd);
var E1 = objs.E = {}; E1.on("x", mk("E.f")); var first = E1["#onx"]; E1.on("x", mk("E.g"));
print("E new array per on()", first !== E1["#onx"], first.length, E1["#onx"].length);
var F = objs.F = {}, ff = mk("F.f"); F.on("x", ff); F.on("x", mk("F.g")); F.removeListener("x", ff);
print("F after removeListener", F["#onx"].length, JSON.stringify(Object.keys(F["#onx"])));
F.emit("x", "f1");
var G = objs.G = {}, fg = mk("G.f"); G.on("x", fg); G.removeListener("x", fg);
print("G keys", JSON.stringify(Object.keys(G)), "length", G["#onx"].length);
G.emit("x", "g1");
var H = objs.H = {}; H.on("y", mk("H.f")); H.on("z", mk("H.g")); print("H keys", JSON.stringify(Object.keys(H)));
H.removeAllListeners(); print("H keys after removeAllListeners()", JSON.stringify(Object.keys(H)));
print("sync end");
