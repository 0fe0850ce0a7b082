// JSON.parse and Storage.readJSON keep a duplicate key as a second property: stringify and for-in show both.
var o = JSON.parse('{"a":1,"b":3,"a":2}');
var n = 0; for (var k in o) n++;
print("stringify", JSON.stringify(o), "for-in count", n);
o.a = 5; print("after o.a = 5", JSON.stringify(o));
delete o.a; print("after delete o.a", JSON.stringify(o), o.a);
require("Storage").write("dup", '{"a":1,"a":2}');
print("readJSON", JSON.stringify(require("Storage").readJSON("dup")));
