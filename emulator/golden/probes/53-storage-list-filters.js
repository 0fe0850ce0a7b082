// Storage.list's filter: a RegExp with the g flag matches every file; a string filters by
// substring (not as a regex); null gives []; a number is a string; hash() filters the same way.
var S = require("Storage");
S.write("abc", "1"); S.write("xabcx", "2"); S.write(".ota_1", "3"); S.write("zzz", "4");
print("g", JSON.stringify(S.list(/^\.ota_/g)));
print("no g", JSON.stringify(S.list(/^\.ota_/)));
print("nomatch g", JSON.stringify(S.list(/nomatch/g)));
print("i", JSON.stringify(S.list(/ABC/i)));
print("string", JSON.stringify(S.list("abc")));
print("string dot", JSON.stringify(S.list(".")));
print("empty string", JSON.stringify(S.list("")));
print("null", JSON.stringify(S.list(null)));
print("undefined", JSON.stringify(S.list(undefined)));
print("number", JSON.stringify(S.list(1)));
print("hash g equals hash()", S.hash(/^\.ota_/g) === S.hash(), "hash filtered differs", S.hash(/^\.ota_/) === S.hash());
