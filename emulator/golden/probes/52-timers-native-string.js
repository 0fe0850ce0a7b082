// setTimeout with a native function (Storage.erase, print) and extra arguments, and with a
// string of code, which runs at global scope when the timer fires.
var S = require("Storage");
S.write("gone", "x"); S.write("kept", "y");
setTimeout(S.erase, 10, "gone");
setTimeout(require("Storage").erase, 15, "nothing");
setTimeout(print, 20, "print as a timer", 1, 2);
var scope = "global scope";
function f() { var scope = "local"; setTimeout("print('string timer sees', scope)", 30); }
f();
setTimeout("var madeByString = 5;", 35);
var iv = setInterval("print('interval string'); clearInterval(iv);", 40);
setTimeout(function (a, b) { print("args", a, b, arguments.length); }, 45, "A", "B");
setTimeout(function () { print("after", JSON.stringify(S.list()), typeof madeByString, madeByString); }, 60);
