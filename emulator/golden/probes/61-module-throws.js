// require() of a Storage module whose code throws: the first require throws, the module is
// cached anyway, and a second require returns what it had exported before the throw.
var S = require("Storage");
S.write("bad", 'exports.a = 1; throw new Error("boom"); exports.b = 2;');
try { require("bad"); print("no throw"); } catch (e) { print("first require threw", e.message); }
try { print("second require", JSON.stringify(require("bad"))); } catch (e) { print("second require threw", e.message); }
print("cached", JSON.stringify(Modules.getCached()));
S.write("bad2", 'module.exports = {x: 1}; throw new Error("boom2");');
try { require("bad2"); } catch (e) { print("bad2 first threw", e.message); }
try { print("bad2 second", JSON.stringify(require("bad2"))); } catch (e) { print("bad2 second threw", e.message); }
