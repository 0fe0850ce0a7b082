#!/usr/bin/env node
// The `espruino-ota` executable: scripts/build-tools.ts bundles it (with everything it
// imports) into dist/espruino-ota.js, which package.json's "bin" names. In the repository,
// `npx tsx tools/bin.ts …` runs the same from the sources.
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2));
