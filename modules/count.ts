// Stored as .bootPowerOn by update(). Espruino runs it only on a real start (power-on,
// E.reboot(), a watchdog or hardware reset), not on load() or reset(), which apps use
// to switch apps: so only real starts use up a pending release's maxBoots.
// One byte per start, written into the pre-sized counter: no file is rewritten.
import { PENDING } from "./formats.ts";

declare var require: (name: string) => any;

var S = require("Storage");
var c = S.read(PENDING);
var i = c === undefined ? -1 : c.indexOf("\xFF");
if (i >= 0) S.write(PENDING, "b", i);
