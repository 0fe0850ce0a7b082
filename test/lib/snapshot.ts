// A folder's files, each with its size and mtime, as one string: equal before and after a
// command proves that the command wrote nothing there (flash, the demo, the installed CLI
// must never write inside the package).
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export function treeSnapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.push(`${relative(dir, p)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.join("\n");
}
