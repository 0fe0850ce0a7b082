/// <reference path="../modules/ota.d.ts" />
// The package as people install it: `npm pack` (which builds the CLI to dist/), the tarball
// installed into an empty folder with npm, offline, from the local npm cache (`npm ci`
// filled it), and the installed `espruino-ota` run there as a user runs it: no tsx, no
// TypeScript, the repository out of reach. Every command must work and none may write
// inside the installed package.
//
// npm installs the tarball from a lockfile made of the repository's own (its production
// entries): that pins the same versions `npm ci` cached, so `npm ci --offline` needs no
// registry (a plain `npm install <tarball>` would ask the registry for package metadata).
import { expect } from "chai";
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../scripts/build.ts";
import { DEVICE_FILES } from "../tools/package-files.ts";
import { treeSnapshot } from "./lib/snapshot.ts";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

describe("package.json and the shipped files", () => {
  it("declares, in modules/ota.d.ts, exactly the device's error codes (formats.ts)", () => {
    const formats = readFileSync(join(ROOT, "modules", "formats.ts"), "utf8");
    const device = formats.slice(formats.indexOf("// Device (update(), check()):"), formats.indexOf("// Tools only"));
    const codes = [...device.matchAll(/^export var E_\w+ = "(\w+)";/gm)].map((m) => m[1]).sort();
    const dts = readFileSync(join(ROOT, "modules", "ota.d.ts"), "utf8");
    const union = dts.slice(dts.indexOf("export type OtaErrorCode"), dts.indexOf("export interface OtaError"));
    expect([...union.matchAll(/^\s*\| "(\w+)"/gm)].map((m) => m[1]).sort()).to.deep.equal(codes).and.have.length.above(10);
  });

  it("keeps the TypeScript toolchain out of the runtime dependencies", () => {
    expect(Object.keys(pkg.dependencies).sort()).to.deep.equal(["@aws-sdk/client-s3", "bcryptjs", "cli-progress", "espruino", "selfsigned"]);
    for (const dev of ["typescript", "tsx", "tsup", "@swc/core", "terser", "acorn"]) expect(pkg.devDependencies, dev).to.have.property(dev);
  });

  it("records that no dependency's install script runs (none is needed: see the README's Install)", () => {
    for (const [name, allowed] of Object.entries(pkg.allowScripts)) expect(allowed, name).to.equal(false);
  });
});

interface Installed {
  dir: string; // the folder the tarball was installed into
  pkgDir: string; // node_modules/espruino-ota
  bin: string;
  tarball: { file: string; size: number; files: string[]; unpackedSize: number };
}

function du(dir: string): number {
  return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// The installed CLI runs with a plain environment: no tsx loader inherited from mocha.
const ENV = { ...process.env, NODE_OPTIONS: "" };

describe("the npm package, installed from its tarball", function () {
  this.timeout(300_000);
  let inst: Installed;
  let pristine: string;
  const run = (args: string[], cwd = inst.dir): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [inst.bin, ...args], { cwd, encoding: "utf8", env: ENV, timeout: 60_000 });

  before(function () {
    const tmp = mkdtempSync(join(tmpdir(), "ota-pack-"));
    const pack = spawnSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8", env: ENV });
    expect(pack.status, `npm pack failed:\n${pack.stderr}`).to.equal(0);
    const p = JSON.parse(pack.stdout)[0];
    const dir = join(tmp, "app");
    mkdirSync(dir);
    const spec = `file:../${p.filename}`;
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    const packages: Record<string, unknown> = {
      "": { name: "app", dependencies: { "espruino-ota": spec } },
      "node_modules/espruino-ota": {
        version: pkg.version, resolved: spec, integrity: p.integrity, license: pkg.license,
        dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
      },
    };
    for (const [k, v] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) if (k.startsWith("node_modules/") && !v.dev) packages[k] = v;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, dependencies: { "espruino-ota": spec } }, null, 2));
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ name: "app", lockfileVersion: 3, requires: true, packages }, null, 2));
    const ci = spawnSync("npm", ["ci", "--offline", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8", env: ENV });
    expect(ci.status, `npm ci --offline of the tarball failed (is the npm cache filled? run npm ci in the repository first):\n${ci.stderr}`).to.equal(0);
    const pkgDir = join(dir, "node_modules", "espruino-ota");
    inst = {
      dir, pkgDir, bin: join(dir, "node_modules", ".bin", "espruino-ota"),
      tarball: { file: join(tmp, p.filename), size: p.size, files: p.files.map((f: { path: string }) => f.path).sort(), unpackedSize: p.unpackedSize },
    };
    pristine = treeSnapshot(pkgDir);
  });

  after(function () {
    if (!inst) return;
    // The figures the issue asks for, measured here (not asserted: timings are the bench's).
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      run(["--help"]);
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    const nodeOnly: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      spawnSync(process.execPath, ["-e", "0"], { env: ENV });
      nodeOnly.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    console.log(
      `      package: tarball ${inst.tarball.size} B, ${inst.tarball.files.length} files (${inst.tarball.unpackedSize} B unpacked); ` +
        `installed node_modules ${du(join(inst.dir, "node_modules"))} B; ` +
        `espruino-ota --help ${median(times).toFixed(3)} s median of 5 (node -e 0: ${median(nodeOnly).toFixed(3)} s)`,
    );
    rmSync(join(inst.dir, ".."), { recursive: true, force: true });
  });

  it("ships the built CLI, the device files, their types, the board files, README and LICENSE, and nothing else", () => {
    const f = inst.tarball.files;
    expect(f.filter((x) => !x.startsWith("dist/"))).to.deep.equal([
      "LICENSE", "README.md",
      "boards/ESP32.json", "boards/ESP8266_4MB.json", "boards/ESP8266_BOARD.json", "boards/LINUX.json",
      "modules/boot.min.js", "modules/boot.tok", "modules/count.min.js", "modules/ota.d.ts", "modules/ota.min.js",
      "modules/ota.tok", "package.json",
    ]);
    expect(f).to.include("dist/espruino-ota.js").and.include("dist/espruino-cli-preload.cjs");
    expect(f.filter((x) => x.startsWith("dist/") && !/\.(js|cjs)$/.test(x))).to.deep.equal([]);
  });

  it("installs no TypeScript toolchain", () => {
    for (const dev of ["typescript", "tsx", "tsup", "@swc/core", "terser", "mocha"]) expect(existsSync(join(inst.dir, "node_modules", dev)), dev).to.equal(false);
  });

  it("--version and --help", () => {
    const v = run(["--version"]);
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout).to.equal(pkg.version + "\n");
    const h = run(["--help"]);
    expect(h.status, h.stderr).to.equal(0);
    expect(h.stdout).to.match(/^usage: espruino-ota <command>/).and.include("flash").and.include("release");
    const hf = run(["help", "flash"]);
    expect(hf.stdout).to.match(/-p, --port <port>/).and.match(/-b, --baud <n> .*\(default: /);
  });

  it("release, list, nginx, and serve answering one request on 127.0.0.1", async () => {
    const root = join(inst.dir, "www");
    mkdirSync(root); // release wants a root that exists
    writeFileSync(join(inst.dir, "main.js"), 'print("v1");\n');
    const r = run(["release", "--root", root, "--project", "p", "--version", "v1", "main=main.js"]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include("released p v1");
    const l = run(["list", "--root", root, "--project", "p"]);
    expect(l.status, l.stderr).to.equal(0);
    expect(l.stdout).to.include("live: v1");
    const n = run(["nginx", "--root", root]);
    expect(n.status, n.stderr).to.equal(0);
    expect(n.stdout).to.match(/server \{/).and.include(root);

    const child = spawn(process.execPath, [inst.bin, "serve", "--root", root, "--port", "0"], { cwd: inst.dir, env: ENV });
    try {
      let out = "";
      child.stderr.setEncoding("utf8");
      child.stdout.setEncoding("utf8");
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`serve printed no URL: ${out}`)), 20_000);
        child.stdout.on("data", (d: string) => {
          out += d;
          const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) (clearTimeout(t), resolve(m[1]));
        });
        child.once("exit", (code) => reject(new Error(`serve exited (${code}): ${out}`)));
      });
      const body = await new Promise<string>((resolve, reject) => {
        http.get(`${url}/p/version`, (res) => {
          let b = "";
          res.setEncoding("utf8");
          res.on("data", (d) => (b += d));
          res.on("end", () => resolve(b));
        }).on("error", reject);
      });
      expect(body).to.equal("v1");
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("flash --dry-run, from the shipped device files", () => {
    const app = join(inst.dir, "app.js");
    writeFileSync(app, 'print("app");\n');
    const out = join(inst.dir, "flash.js");
    const r = run(["flash", "--board", "ESP8266_4MB", "--dry-run", out, app]);
    expect(r.status, r.stderr).to.equal(0);
    const script = readFileSync(out, "latin1");
    const ota = readFileSync(join(inst.pkgDir, "modules", "ota.tok"));
    expect(script).to.include(`require("Storage").write("ota",atob("${ota.subarray(0, 384).toString("base64")}"),0,${ota.length});`);
  });

  it("release --bundle, through the installed espruino CLI, offline", () => {
    const dir = join(inst.dir, "bundled");
    mkdirSync(join(dir, "modules"), { recursive: true });
    writeFileSync(join(dir, "modules", "greet.js"), 'exports.hi = function () { return "hi"; };\n');
    writeFileSync(join(dir, "main.js"), 'print(require("greet").hi());\nrequire("ota").check({host: "http://127.0.0.1:1", project: "b"});\n');
    const r = run(["release", "--root", join(inst.dir, "www"), "--project", "b", "--version", "v1", "--bundle", join(dir, "main.js")], dir);
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/bundled \S+main\.js with module\(s\) greet as "\.bootcde"/);
    expect(readFileSync(join(inst.dir, "www", "b", "v1_.bootcde"), "latin1")).to.match(/^Modules\.addCached\("greet"/);
  });

  it("gives TypeScript apps the device API's types (espruino-ota/ota), compiling to require(\"ota\")", () => {
    const dir = join(inst.dir, "ts-app");
    mkdirSync(dir);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "node16", moduleResolution: "node16", target: "es5", strict: true, types: ["espruino-ota/ota"], outDir: "out", lib: ["es5"] },
      files: ["app.ts"],
    }));
    writeFileSync(join(dir, "app.ts"), [
      'import * as ota from "ota";',
      'ota.update({ host: "http://192.168.1.2:8080", project: "p", reset: "soft", onProgress: function (f, done, total) { return f + done + total; } },',
      "  function (err, r) { if (err) { var c: ota.OtaErrorCode = err.code; return c; } return r && r.updated; });",
      "var s: ota.OtaStatus = ota.status();",
      "var pending: boolean = s.pending && ota.confirm();",
      '// @ts-expect-error: reset is "hard", "soft" or "none"',
      'ota.check({ host: "h", project: "p", reset: "later" });',
      "export var installed = ota.version() || String(pending);",
      "",
    ].join("\n"));
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8", env: ENV });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    expect(readFileSync(join(dir, "out", "app.js"), "utf8")).to.include('require("ota")');
  });

  it("wrote nothing inside the installed package", () => {
    expect(treeSnapshot(inst.pkgDir)).to.equal(pristine);
  });
});
