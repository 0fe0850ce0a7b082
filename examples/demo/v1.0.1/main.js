// Storage "main" of the demo app, release v1.0.1: what the update brought.
exports.start = function () {
  print("demo v1.0.1: hello from v1.0.1 (installed version: " + require("ota").version() + ")");
};
