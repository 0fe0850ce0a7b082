// HTTP: a response with a header repeated: reading res.headers gives the first value.
var http = require("http");
http.get("http://127.0.0.1:__PORT__/dup-headers", function (res) {
  print("X-Dup", JSON.stringify(res.headers["X-Dup"]), "Set-Cookie", JSON.stringify(res.headers["Set-Cookie"]), "set-cookie", JSON.stringify(res.headers["set-cookie"]));
  print("keys", JSON.stringify(Object.keys(res.headers)));
});
