// Storage "main" of the demo app, release v1.0.0.
exports.start = function () {
  print("demo v1.0.0: hello from v1.0.0");
};
