// Boot: file mode runs .bootPowerOn, .boot0, .boot1 (not .bootcde), then the file; load()
// then runs .boot0, .boot1 and .bootcde, not .bootPowerOn.
print("file runs");
setTimeout(function () { print("calling load()"); load(); }, 10);
