// Boot: eval mode (espruino -e) runs .bootPowerOn, .boot0, .boot1, .bootcde, then the code.
print("eval runs");
