// The CLI's command table: `espruino-ota <name>` runs commands[name].
// To add a command, write tools/commands/<name>.ts exporting a Command and list it here.
import type { Command } from "./types.ts";
import { releaseCommand } from "./release.ts";
import { rollbackCommand } from "./rollback.ts";
import { listCommand } from "./list.ts";
import { pruneCommand } from "./prune.ts";
import { serveCommand } from "./serve.ts";
import { nginxCommand } from "./nginx.ts";
import { flashCommand } from "./flash.ts";

export const commands: Record<string, Command> = {
  release: releaseCommand,
  rollback: rollbackCommand,
  list: listCommand,
  prune: pruneCommand,
  serve: serveCommand,
  nginx: nginxCommand,
  flash: flashCommand,
};
