// Tests that need a program npm cannot install, such as nginx: on a machine without it they
// do not run and say so loudly, with the one command that adds them; when CI is set they
// fail instead (the rule of harness/gate.ts, whose didNotRun() this uses; the real
// interpreter's tests use describeReal() there). Use it first thing in a suite's before():
//   before(function () { requireTool(this, NGINX_TOOL); });
import { didNotRun } from "./gate.ts";
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

const probed = new Map<ExternalTool, string | undefined>();

/** Skips the calling suite, loudly, when `tool` is missing (fails instead when CI is set). */
export function requireTool(ctx: Mocha.Context, tool: ExternalTool): void {
  if (!probed.has(tool)) probed.set(tool, tool.missing());
  const why = probed.get(tool);
  if (why === undefined) return;
  didNotRun(ctx, `"${ctx.test?.parent?.fullTitle() ?? "this suite"}"`, `${tool.name} is missing (${why})`, tool.install);
}
