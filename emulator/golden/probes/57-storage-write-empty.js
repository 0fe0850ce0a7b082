// Storage.write of an empty string: over an existing file it throws and keeps the file.
var S = require("Storage");
function attempt(label, f) { try { print(label, "returned", f()); } catch (e) { print(label, "threw", e.message); } }
S.write("e", "keep");
attempt("write e ''", function () { return S.write("e", ""); });
print("e is", S.read("e"));
attempt("write new ''", function () { return S.write("new", ""); });
print("new is", S.read("new"));
attempt("write e '' at 2", function () { return S.write("e", "", 2); });
print("e is", S.read("e"));
attempt("write e2 '' size 4", function () { return S.write("e2", "", 0, 4); });
print("e2 length", S.read("e2").length, "bytes", S.read("e2").charCodeAt(0));
print("list", JSON.stringify(S.list()));
