// HTTP: a repeated response header is kept as a second property of res.headers: JSON and for-in
// show every copy.
var http = require("http");
http.get("http://127.0.0.1:__PORT__/dup-headers", function (res) {
  var n = 0; for (var k in res.headers) n++;
  print("headers", JSON.stringify(res.headers), "for-in count", n);
});
