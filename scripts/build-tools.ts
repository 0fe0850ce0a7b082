// Builds the shipped CLI: tools/bin.ts and everything it imports, bundled to JavaScript in
// dist/ (npm's `prepack` runs it, so `npm pack` and `npm publish` ship it, and the package
// needs no TypeScript at run time):
//   dist/espruino-ota.js            the `espruino-ota` executable (package.json "bin")
//   dist/chunk-*.js                 parts loaded only by the command that needs them
//   dist/espruino-cli-preload.cjs   the espruino CLI's offline guard (tools/espruino-cli.ts)
// The runtime dependencies (package.json "dependencies") stay external: npm installs them.
// dist/ is not committed; `npm run build:tools` makes it by hand.
import { build } from "tsup";
import { copyFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");
export const BIN = join(DIST, "espruino-ota.js");

export async function buildTools(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  await build({
    entry: { "espruino-ota": join(ROOT, "tools", "bin.ts") },
    outDir: DIST,
    format: ["esm"],
    platform: "node",
    target: "node20",
    bundle: true,
    splitting: true, // each `await import()` of a command's implementation becomes a chunk
    treeshake: false,
    sourcemap: false,
    minify: false, // stack traces in bug reports stay readable
    dts: false,
    config: false,
    silent: true,
    outExtension: () => ({ js: ".js" }),
  });
  copyFileSync(join(ROOT, "tools", "espruino-cli-preload.cjs"), join(DIST, "espruino-cli-preload.cjs"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildTools();
  process.stderr.write(`built ${BIN}\n`); // stderr: `npm pack --json` owns stdout
}
