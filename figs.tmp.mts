import { measureRealFigures, realRows } from "./harness/real-figures.ts";
import { committedModules } from "./harness/real-ota.ts";
const f = await measureRealFigures(committedModules());
for (const r of realRows(f)) console.log((r.met ? "ok   " : "MISS ") + r.figure + ": " + r.measured + " (target " + r.target + ")");
console.log(JSON.stringify(f.storageFiles));
