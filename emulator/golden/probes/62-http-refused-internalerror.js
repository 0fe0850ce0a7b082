// HTTP: the error a refused connection or an unknown host throws is an InternalError, which is
// not instanceof Error.
var http = require("http");
try { http.get("http://127.0.0.1:1/", function () {}); } catch (e) {
  print("refused", String(e), "message", e.message, "instanceof Error", e instanceof Error, "instanceof InternalError", e instanceof InternalError, typeof e);
}
try { http.get("http://nonexistent.invalid/", function () {}); } catch (e) {
  print("unknown host", String(e), "instanceof Error", e instanceof Error, "instanceof InternalError", e instanceof InternalError);
}
