// Boot: setup probe for 55 and 56. Writes .bootPowerOn, .boot0, .boot1 and .bootcde.
var S = require("Storage");
S.write(".bootPowerOn", 'print("bootPowerOn ran");');
S.write(".boot0", 'print("boot0 ran");');
S.write(".boot1", 'print("boot1 ran");');
S.write(".bootcde", 'print("bootcde ran");');
print("list", JSON.stringify(S.list()));
