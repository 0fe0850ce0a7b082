// Storage ".bootcde" of the demo app, release v1.0.1. At every boot: install a new
// release if the OTA server has one (the board then resets into it), else start the app.
// The server's address is per board, so it lives outside the release, in Storage file
// "ota.json": {"host": "http://192.168.2.100:8080", "project": "demo"}
// (optionally "user" and "password" for Basic auth). Wi-Fi must be up before this runs
// on a real board; see examples/sample for a board that connects first.
var cfg = require("Storage").readJSON("ota.json", true) || {};
print("demo v1.0.1: boot");
var opts = {
  host: cfg.host,
  project: cfg.project || "demo",
  files: [".bootcde", "main"],
  // One line per stored chunk: `npm start` draws its progress bar from these.
  onProgress: function (file, done, total) { print("ota: " + file + " " + done + "/" + total); }
};
if (cfg.user) { opts.user = cfg.user; opts.password = cfg.password; }
require("ota").update(opts, function (err, r) {
  if (err) print("demo v1.0.1: OTA failed:", err.code, err.message);
  else if (r.updated) print("demo v1.0.1: installed " + r.version + ", resetting into it");
  else print("demo v1.0.1: " + r.version + " is the latest");
  // After an install the board resets by itself; otherwise the app starts now.
  if (err || !r.updated) require("main").start();
});
