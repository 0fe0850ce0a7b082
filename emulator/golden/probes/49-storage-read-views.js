// Storage.read returns a live view of flash: a later write at an offset shows through it, and
// after the file is erased or replaced the variable reads null. E.toString, substr and a typed
// array round trip keep the view; "" + s and E.toUint8Array copy. (Issue 14, defect 5.)
var S = require("Storage");
function show(v) {
  if (typeof v !== "string") return String(v);
  var h = "";
  for (var i = 0; i < v.length; i++) h += (v.charCodeAt(i) < 16 ? "0" : "") + v.charCodeAt(i).toString(16);
  return h;
}
S.write("v", "ABCD", 0, 8);
var s = S.read("v"), t = E.toString(S.read("v")), u = S.read("v").substr(0, 6);
var ab = S.readArrayBuffer("v"), rt = E.toString(new Uint8Array(E.toArrayBuffer(S.read("v"))));
var cp = "" + S.read("v"), u8 = E.toUint8Array(S.read("v"));
S.write("v", "EF", 4);
print("after offset write", show(s), show(t), show(u), show(rt), show(E.toString(ab)));
print("copies", show(cp), show(E.toString(u8)));
S.erase("v");
print("after erase", show(s), show(t), show(u), show(rt), typeof s);
print("copies after erase", show(cp), show(E.toString(u8)));
S.write("w", "1234");
var w = S.read("w");
S.write("w", "5678");
print("after replace", show(w));
