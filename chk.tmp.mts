import { es5Problems } from "./harness/es5-check.ts";
import { readFileSync } from "node:fs";
import { hoistVars } from "./scripts/build.ts";
for (const f of ["ota.min.js", "boot.min.js", "count.min.js"]) console.log(f, es5Problems(readFileSync("modules/" + f, "latin1")));
console.log(hoistVars("function f(){x=1;for(var i=0,j;i<2;i++){var y=i}for(var k in o)z();var x;return function(){var q=1}}"));
const s = readFileSync("modules/ota.min.js", "latin1");
console.log("function keywords:", (s.match(/function/g) || []).length);
