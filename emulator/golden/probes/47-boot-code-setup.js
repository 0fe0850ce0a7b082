// Boot: setup probe for 48. Writes a .boot0 that leaves a listener, a timer and a global function.
var S = require("Storage");
print("write .boot0", S.write(".boot0", 'print("boot0 ran"); global.fromBoot0 = function () { return "fromBoot0 alive"; }; E.on("ping", function () { print("boot0 listener ran"); }); setTimeout(function () { print("boot0 timer ran"); }, 100);'));
