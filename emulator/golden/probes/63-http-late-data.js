// HTTP: a 'data' listener added after the response ended (even after 'close') still gets the
// body, which was buffered on the response.
var http = require("http");
http.get("http://127.0.0.1:__PORT__/hello", function (res) {
  print("status", res.statusCode);
  res.on("end", function () { print("end"); });
  res.on("close", function () { print("close"); });
  setTimeout(function () {
    print("adding a data listener at 300 ms");
    res.on("data", function (d) { print("late data", JSON.stringify(d)); });
    print("added");
  }, 300);
});
