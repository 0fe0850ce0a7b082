// Stored as .bootPowerOn. Espruino runs it only on a real start (power-on, E.reboot(), a
// watchdog or hardware reset), before .boot0, and not on load() or reset(), which apps use
// to switch apps. It marks the start as real, so that the boot stage counts it against a
// pending release's maxBoots; the boot stage deletes the mark.
import { POWER_ON } from "./formats.ts";

declare var global: { [name: string]: any };

global[POWER_ON] = 1;
