// clearTimeout/clearInterval: undefined (e.g. an unset variable) throws; no argument clears
// every timer; an unknown or spent id does nothing; changeInterval of an unknown id throws.
function attempt(label, f) { try { f(); print(label, "ok"); } catch (e) { print(label, "threw", e.message); } }
var t1 = setTimeout(function () { print("t1 ran"); }, 200);
var u;
attempt("clearTimeout(u)", function () { clearTimeout(u); });
attempt("clearInterval(undefined)", function () { clearInterval(undefined); });
attempt("clearTimeout(9999)", function () { clearTimeout(9999); });
attempt("clearInterval(9999)", function () { clearInterval(9999); });
attempt("changeInterval(9999, 10)", function () { changeInterval(9999, 10); });
print("ids", typeof t1);
var t2 = setTimeout(function () {
  print("t2 ran");
  attempt("clearTimeout(spent t2)", function () { clearTimeout(t2); });
}, 50);
setTimeout(function () {
  setTimeout(function () { print("a (never)"); }, 500);
  setInterval(function () { print("b (never)"); }, 500);
  clearTimeout();
  print("cleared all");
  setTimeout(function () { print("a timer set after clearTimeout()"); }, 100);
}, 300);
