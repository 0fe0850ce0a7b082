// JSON.parse is Espruino's JSON reader: single quotes, \x escapes, comments and trailing
// commas are accepted, anything after the first value is ignored, a duplicate key keeps the
// first value for reads; keys must be quoted. Storage.readJSON also takes unquoted keys.
var S = require("Storage");
function t(label, f) { try { var v = f(); print(label, typeof v, JSON.stringify(v)); } catch (e) { print(label, "threw", String(e)); } }
t("trailing \\xFF\\xFF", function () { return JSON.parse('{"a":1}\xFF\xFF'); });
["{'a':'b'}", '{"a":1} junk', "[1,2,]", '{"a":1,}', "1 2", "123abc", "/*c*/ 1", '"\\x41\\u0042\\q"',
 "0x10", ".5", "-1", "-", "-x", '{"a":-}', "tru", "NaN", "undefined", "", "{a:1}", "{1:2}", "{'a' 1}", "[1 2]",
 '{"a":1 "b":2}', '{"a"}', "[,]", "{,}", "[1,,2]", '"abc', "}", "+1", '{"a":[}'
].forEach(function (s) { t(JSON.stringify(s), function () { return JSON.parse(s); }); });
t("parse(5)", function () { return JSON.parse(5); });
t("parse(true)", function () { return JSON.parse(true); });
t("parse(null)", function () { return JSON.parse(null); });
t("parse()", function () { return JSON.parse(); });
t("parse([1])", function () { return JSON.parse([1]); });
t("dup .a", function () { return JSON.parse('{"a":1,"b":3,"a":2}').a; });
t("dup keys", function () { return Object.keys(JSON.parse('{"a":1,"b":3,"a":2}')); });
["{a:1}", "{'a':1} trailing", "[1,]", '{"a":}', "x", "undefined", "{a b}", "-x"].forEach(function (s, i) {
  S.write("r" + i, s);
  t("readJSON " + JSON.stringify(s), function () { return S.readJSON("r" + i); });
});
