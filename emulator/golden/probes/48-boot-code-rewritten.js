// Boot: .boot0 (from 47) ran at start; the program rewrites .boot0 with other code, as an
// update does. The function, listener and timer .boot0 made now throw
// "Function code is null, not a string". (Issue 14, defect 3.)
var S = require("Storage");
print("fromBoot0 before", fromBoot0());
S.write(".boot0", 'print("new boot0");');
try { print("fromBoot0 after", fromBoot0()); } catch (e) { print("fromBoot0 after threw", e.message); }
E.emit("ping");
setTimeout(function () { print("end"); }, 600);
