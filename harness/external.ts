// Tests that need a program npm cannot install (nginx; the real Espruino interpreter through
// ESPRUINO_BIN): on a machine without it they do not run, and say so loudly, with the one
// command that adds them; when CI is set they fail instead, so that CI runs everything.
// Use it first thing in the suite's before() hook:
//   before(function () { requireTool(this, NGINX_TOOL); });
import { nginxAvailable, NGINX } from "./nginx.ts";

export interface ExternalTool {
  /** what the tests need, as people call it: "nginx" */
  name: string;
  /** undefined when the tool runs here, else why not */
  missing(): string | undefined;
  /** the one command that adds it: "apt-get install nginx" */
  install: string;
}

export const NGINX_TOOL: ExternalTool = {
  name: "nginx",
  missing: () => (nginxAvailable() ? undefined : `"${NGINX} -v" does not run`),
  install: "apt-get install nginx",
};

/** CI is set (CI=true, as CI services set it; CI=0 or CI=false count as unset). */
export function inCi(): boolean {
  const ci = process.env.CI;
  return !!ci && !/^(0|false)$/i.test(ci);
}

const notRun: string[] = [];
const probed = new Map<ExternalTool, string | undefined>();

function summary(): void {
  process.stderr.write(
    `\n  NOT RUN: ${notRun.length} test suite(s) that need a program npm cannot install:\n` +
      notRun.map((s) => `    - ${s}\n`).join("") +
      "  These are not passes. With CI set, they fail instead.\n\n",
  );
}

/** Skips the calling suite, loudly, when `tool` is missing (fails instead when CI is set). */
export function requireTool(ctx: Mocha.Context, tool: ExternalTool): void {
  if (!probed.has(tool)) probed.set(tool, tool.missing());
  const why = probed.get(tool);
  if (why === undefined) return;
  const what = `${ctx.test?.parent?.fullTitle() ?? "a suite"}: ${tool.name} is missing (${why}); \`${tool.install}\` adds it`;
  if (inCi()) throw new Error(`${what}. CI runs every test, so this is a failure.`);
  if (notRun.length == 0) process.once("exit", summary); // after mocha's own summary: the last word
  notRun.push(what);
  process.stderr.write(`  NOT RUN: ${what}\n`);
  ctx.skip();
}
