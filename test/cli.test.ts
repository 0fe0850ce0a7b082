// The CLI's conventions (tools/cli.ts, tools/commands/types.ts): --version, help for every
// command and option, exit codes, stdout for results and stderr for errors and progress.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { main, commands, commandHelp } from "../tools/cli.ts";
import { progress, printJson, type Io } from "../tools/commands/types.ts";
import { ROOT } from "../scripts/build.ts";

function io(tty = false) {
  let out = "", err = "";
  const s: Io = {
    stdout: { write: (x: string) => { out += x; return true; } } as any,
    stderr: { isTTY: tty, write: (x: string) => { err += x; return true; } } as any,
  };
  return { io: s, out: () => out, err: () => err };
}

async function cli(args: string[]) {
  const c = io();
  const code = await main(args, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe("CLI conventions", () => {
  it("--version prints the package's version", async () => {
    const r = await cli(["--version"]);
    expect(r).to.deep.equal({ code: 0, out: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version + "\n", err: "" });
  });

  it("no command: the command list on stderr, exit 2; --help and help: on stdout, exit 0", async () => {
    const none = await cli([]);
    expect(none.code).to.equal(2);
    expect(none.err).to.match(/^usage: espruino-ota <command>/);
    for (const h of [["--help"], ["-h"], ["help"]]) {
      const r = await cli(h);
      expect(r.code).to.equal(0);
      expect(r.out).to.equal(none.err);
      for (const name of Object.keys(commands)) expect(r.out).to.include(`  ${name}`);
    }
  });

  for (const [name, cmd] of Object.entries(commands)) {
    it(`help ${name} and ${name} --help list every option with its meaning and default`, async () => {
      const a = await cli(["help", name]);
      const b = await cli([name, "--help"]);
      expect(a.code).to.equal(0);
      expect(b).to.deep.equal(a);
      expect(a.out).to.equal(commandHelp(name));
      expect(a.out).to.match(new RegExp(`^usage: espruino-ota ${name} `));
      expect(a.out).to.include(cmd.summary);
      for (const [long, o] of Object.entries(cmd.options)) {
        const rows = a.out.slice(a.out.indexOf("\noptions:\n")).split("\n");
        const row = rows.find((l) => new RegExp(`^  (-\\w, |    )--${long}( |$)`).test(l));
        expect(row, `--${long} in:\n${a.out}`).to.be.a("string");
        expect(o.help, `--${long} has no help`).to.be.a("string").and.not.equal("");
        expect(row).to.include(o.help);
        if (o.short) expect(row).to.include(`-${o.short}, --${long}`);
        if (o.defaultText) expect(row).to.include(`default: ${o.defaultText}`);
        else if (typeof o.default == "string") expect(row).to.include(`default: ${o.default}`);
        if (cmd.required?.includes(long)) expect(row).to.include("required");
      }
    });
  }

  it("help <unknown> is bad usage", async () => {
    const r = await cli(["help", "nope"]);
    expect(r.code).to.equal(2);
    expect(r.err).to.include('unknown command "nope"');
    expect(r.out).to.equal("");
  });

  it("an unknown command or option is bad usage: the message and the usage line on stderr, exit 2", async () => {
    const u = await cli(["publish"]);
    expect(u.code).to.equal(2);
    expect(u.err).to.include('unknown command "publish"');
    const o = await cli(["list", "--root", "r", "--project", "p", "--colour"]);
    expect(o.code).to.equal(2);
    expect(o.err).to.match(/^espruino-ota list: Unknown option '--colour'/).and.include("usage: espruino-ota list ").and.include("espruino-ota help list");
    expect(o.out).to.equal("");
  });

  for (const [name, cmd] of Object.entries(commands).filter(([, c]) => "root" in c.options)) {
    it(`${name}: a missing --root is bad usage (exit 2)`, async () => {
      expect(cmd.required).to.include("root");
      const r = await cli([name]);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(new RegExp(`^espruino-ota ${name}: missing (--[\\w-]+, )*--root`));
    });
  }

  it("a failure: the message and its code on stderr, exit 1", async () => {
    const r = await cli(["flash", "--board", "ESP99", "--dry-run", "x.js"]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^espruino-ota flash: unknown board "ESP99".*\(ENOBOARD\)\n$/);
    expect(r.out).to.equal("");
  });

  it("progress goes to stderr on a terminal, and nowhere on a pipe", async () => {
    const pipe = io(false);
    const p = progress(pipe.io);
    p.say("step");
    const bar = await p.bar(10);
    bar.update(5, "x");
    bar.stop();
    expect(p.shown).to.equal(false);
    expect(pipe.out() + pipe.err()).to.equal("");
    const tty = io(true);
    progress(tty.io).say("step");
    expect(tty.err()).to.equal("step\n");
    expect(tty.out()).to.equal("");
  });

  it("printJson writes one JSON document on stdout", () => {
    const c = io();
    printJson(c.io, { live: "v1", versions: [] });
    expect(JSON.parse(c.out())).to.deep.equal({ live: "v1", versions: [] });
    expect(c.err()).to.equal("");
  });
});
