import { readFileSync } from "node:fs";
import { parse } from "acorn";
const s = readFileSync("modules/ota.min.js", "latin1");
const ast: any = parse(s, { ecmaVersion: 5 });
let wrapper: any;
(function w(n: any) { if (!n || typeof n !== "object") return; if ((n.type === "FunctionExpression" || n.type === "FunctionDeclaration") && n.end - n.start > 3000 && n.end - n.start < 7200 && (!wrapper || n.end - n.start < wrapper.end - wrapper.start)) wrapper = n; for (const k in n) { const v = n[k]; if (Array.isArray(v)) v.forEach(w); else if (v && typeof v.type === "string") w(v); } })(ast);
let fns = 0; const names: string[] = []; let vars = 0;
for (const st of wrapper.body.body) {
  if (st.type === "FunctionDeclaration") { fns++; names.push(st.id.name + "(" + st.params.length + ") " + (st.end - st.start) + "B"); }
  if (st.type === "VariableDeclaration") vars += st.declarations.length;
}
console.log("machine", wrapper.end - wrapper.start, "B; functions", fns, "vars", vars);
console.log(names.join("  "));
