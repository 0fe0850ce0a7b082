// Secrets from somewhere other than the command line (tools/lib/secret.ts): each secret
// option --x also comes as --x-file <path> or $ESPRUINO_OTA_…, exactly one of them, never
// empty; and files that hold a secret are written 0600. Through the real CLI for `serve`
// (a real server on 127.0.0.1), `nginx` and `flash --dry-run`.
import { expect } from "chai";
import { promises as fsp } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import bcrypt from "bcryptjs";
import { main } from "../tools/cli.ts";
import { UsageError } from "../tools/commands/types.ts";
import { PASSWORD, WIFI, readSecret, secretOptions, writeSecretFile } from "../tools/lib/secret.ts";

const IS_ROOT = process.getuid?.() === 0;

function capture() {
  let out = "";
  let err = "";
  const stream = (add: (s: string) => void) => ({ write: (s: string) => (add(s), true) }) as any;
  return { io: { stdout: stream((s) => (out += s)), stderr: stream((s) => (err += s)) }, out: () => out, err: () => err };
}

// Runs `fn` with the environment variable set (or removed), then restores it.
async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

function mode(st: { mode: number }): number {
  return st.mode & 0o777;
}

describe("secrets", () => {
  let dir: string;
  before(async () => (dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ota-secret-"))));
  after(() => fsp.rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await fsp.writeFile(p, text, { mode: 0o600 });
    return p;
  };

  describe("readSecret", () => {
    it("takes the option, the file (less one final newline) or the environment variable", async () => {
      expect(readSecret({ password: "a b:c" }, PASSWORD, {})).to.equal("a b:c");
      expect(readSecret({ "password-file": await file("lf", "s3cret\n") }, PASSWORD, {})).to.equal("s3cret");
      expect(readSecret({ "password-file": await file("crlf", "s3cret\r\n") }, PASSWORD, {})).to.equal("s3cret");
      expect(readSecret({ "password-file": await file("two", "s3cret\n\n") }, PASSWORD, {})).to.equal("s3cret\n");
      expect(readSecret({ "password-file": await file("raw", " s3cret ") }, PASSWORD, {})).to.equal(" s3cret ");
      expect(readSecret({}, PASSWORD, { ESPRUINO_OTA_PASSWORD: "from-env" })).to.equal("from-env");
      expect(readSecret({}, WIFI, { ESPRUINO_OTA_WIFI: "lab:labpassword" })).to.equal("lab:labpassword");
      expect(readSecret({}, PASSWORD, {})).to.equal(undefined);
    });

    it("refuses two sources at once, naming them", async () => {
      const f = await file("pw", "x");
      const cases = [
        [{ password: "x", "password-file": f }, {}, "--password, --password-file"],
        [{ password: "x" }, { ESPRUINO_OTA_PASSWORD: "y" }, "--password, $ESPRUINO_OTA_PASSWORD"],
        [{ "password-file": f }, { ESPRUINO_OTA_PASSWORD: "y" }, "--password-file, $ESPRUINO_OTA_PASSWORD"],
      ] as const;
      for (const [v, env, named] of cases) {
        expect(() => readSecret(v, PASSWORD, env)).to.throw(UsageError, `(${named})`);
      }
    });

    it("refuses an empty secret from any source", async () => {
      expect(() => readSecret({ password: "" }, PASSWORD, {})).to.throw(UsageError, "from --password is empty");
      expect(() => readSecret({}, PASSWORD, { ESPRUINO_OTA_PASSWORD: "" })).to.throw(UsageError, "from $ESPRUINO_OTA_PASSWORD is empty");
      const empty = await file("empty", "\n");
      expect(() => readSecret({ "password-file": empty }, PASSWORD, {})).to.throw(UsageError, `from --password-file ${empty} is empty`);
    });

    it("says what is wrong with the file", () => {
      const missing = path.join(dir, "nope");
      expect(() => readSecret({ "password-file": missing }, PASSWORD, {})).to.throw(`--password-file ${missing} does not exist`).with.property("code", "ENOENT");
      expect(() => readSecret({ "password-file": dir }, PASSWORD, {})).to.throw(/cannot be read \(EISDIR\)/).with.property("code", "EOPTS");
    });

    it("documents every way in the options' help", () => {
      for (const s of [PASSWORD, WIFI]) {
        const o = secretOptions(s);
        expect(Object.keys(o)).to.deep.equal([s.option, s.option + "-file"]);
        expect(o[s.option].help).to.include(`--${s.option}-file`).and.include(`$${s.env}`);
        expect(o[s.option].defaultText).to.equal(`$${s.env}`);
        expect(o[s.option + "-file"].help).to.match(/read .* from this file/);
      }
    });
  });

  it("writeSecretFile writes 0600, replacing an older file that others could read", async () => {
    const p = path.join(dir, "s.txt");
    await fsp.writeFile(p, "old");
    await fsp.chmod(p, 0o644);
    await writeSecretFile(p, "new");
    expect(mode(await fsp.stat(p))).to.equal(0o600);
    expect(await fsp.readFile(p, "utf8")).to.equal("new");
  });

  describe("espruino-ota serve", function () {
    this.timeout(20000);

    async function serveWith(args: string[], env: string | undefined, check: (url: string) => Promise<void>) {
      const root = await fsp.mkdtemp(path.join(dir, "root-"));
      await fsp.mkdir(path.join(root, "p"));
      await fsp.writeFile(path.join(root, "p", "version"), "v1");
      const c = capture();
      await withEnv(PASSWORD.env, env, async () => {
        const done = main(["serve", "--root", root, "--port", "0", "--user", "dev", ...args], c.io);
        let url: RegExpExecArray | null = null;
        while (!(url = /at (http:\/\/\S+);/.exec(c.out()))) {
          if (c.err()) throw new Error(c.err());
          await new Promise((r) => setTimeout(r, 20));
        }
        try {
          await check(url[1]);
        } finally {
          process.emit("SIGINT"); // what Ctrl-C does: the command stops its server
        }
        expect(await done).to.equal(0);
      });
    }

    const status = (url: string, password: string) =>
      new Promise<number>((resolve, reject) => {
        const auth = "Basic " + Buffer.from(`dev:${password}`).toString("base64");
        http.get(url + "/p/version", { headers: { Authorization: auth }, agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode!));
        }).on("error", reject);
      });

    it("takes the password from --password-file", async () => {
      const f = await file("serve-pw", "from-file\n");
      await serveWith(["--password-file", f], undefined, async (url) => {
        expect(await status(url, "from-file")).to.equal(200);
        expect(await status(url, "from-file\n")).to.equal(401);
      });
    });

    it("takes the password from $ESPRUINO_OTA_PASSWORD", async () => {
      await serveWith([], "from-env", async (url) => {
        expect(await status(url, "from-env")).to.equal(200);
        expect(await status(url, "")).to.equal(401);
      });
    });

    it("refuses --password \"\", a password given twice, and a user without one (exit 2)", async () => {
      const f = await file("serve-pw2", "x");
      for (const [args, env, msg] of [
        [["--user", "dev", "--password", ""], undefined, "from --password is empty"],
        [["--user", "dev", "--password", "x", "--password-file", f], undefined, "given 2 ways"],
        [["--user", "dev", "--password-file", f], "y", "given 2 ways"],
        [["--user", "dev"], undefined, "give both --user and a password"],
        [[], "y", "give both --user and a password"],
      ] as const) {
        const c = capture();
        const code = await withEnv(PASSWORD.env, env, () => main(["serve", "--root", dir, ...args], c.io));
        expect(code, msg).to.equal(2);
        expect(c.err()).to.include(msg);
      }
    });
  });

  describe("espruino-ota nginx", () => {
    it("refuses a root that does not exist (exit 1)", async () => {
      const c = capture();
      expect(await main(["nginx", "--root", path.join(dir, "nope")], c.io)).to.equal(1);
      expect(c.err()).to.include("is not a directory").and.include("ENOENT");
      expect(c.out()).to.equal("");
    });

    it("writes the htpasswd from --password-file or $ESPRUINO_OTA_PASSWORD, for its owner only", async () => {
      if (IS_ROOT) await fsp.chmod(dir, 0o711); // as root the file is for nginx's unprivileged workers
      const f = await file("nginx-pw", "ngx-secret\n");
      for (const [args, env, pw] of [[["--password-file", f], undefined, "ngx-secret"], [[], "env-secret", "env-secret"]] as const) {
        const htpasswd = path.join(dir, `htpasswd-${pw}`);
        const c = capture();
        const code = await withEnv(PASSWORD.env, env, () =>
          main(["nginx", "--root", dir, "--user", "fleet", "--htpasswd", htpasswd, "--bcrypt-cost", "4", ...args], c.io));
        expect(code, c.err()).to.equal(0);
        expect(c.out()).to.include(`auth_basic_user_file "${htpasswd}";`);
        const line = await fsp.readFile(htpasswd, "utf8");
        expect(line).to.match(/^fleet:\$2b\$04\$/);
        expect(bcrypt.compareSync(pw, line.trim().slice("fleet:".length))).to.equal(true);
        expect(mode(await fsp.stat(htpasswd))).to.equal(IS_ROOT ? 0o640 : 0o600);
      }
    });

    it("refuses an empty password and one given twice (exit 2)", async () => {
      for (const [args, env, msg] of [
        [["--password", ""], undefined, "is empty"],
        [["--password", "a"], "b", "given 2 ways"],
      ] as const) {
        const c = capture();
        const code = await withEnv(PASSWORD.env, env, () =>
          main(["nginx", "--root", dir, "--user", "fleet", "--htpasswd", path.join(dir, "never"), ...args], c.io));
        expect(code).to.equal(2);
        expect(c.err()).to.include(msg);
      }
      expect(await fsp.stat(path.join(dir, "never")).catch(() => "none")).to.equal("none");
    });
  });

  describe("espruino-ota flash", function () {
    this.timeout(60000);
    it("takes the Wi-Fi from --wifi-file, and writes the dry-run script (it holds the password) 0600", async () => {
      const app = await file("app.js", "print(1);\n");
      const out = path.join(dir, "flash.js");
      await fsp.writeFile(out, "an older script");
      await fsp.chmod(out, 0o644);
      const wifiFile = await file("wifi", "lab:labpassword\n");
      const c = capture();
      const code = await withEnv(WIFI.env, undefined, () => main(["flash", "--board", "ESP32", "--dry-run", out, "--wifi-file", wifiFile, app], c.io));
      expect(code, c.err()).to.equal(0);
      expect(mode(await fsp.stat(out))).to.equal(0o600);
      const wifi = Buffer.from(JSON.stringify({ ssid: "lab", password: "labpassword" })).toString("base64");
      expect(await fsp.readFile(out, "latin1")).to.include(`atob("${wifi}")`);
    });

    it("refuses a Wi-Fi given twice or empty, before building anything (exit 2)", async () => {
      for (const [args, env, msg] of [
        [["--wifi", "a:12345678"], "b:12345678", "given 2 ways"],
        [["--wifi", ""], undefined, "is empty"],
        [[], "", "from $ESPRUINO_OTA_WIFI is empty"],
      ] as const) {
        const c = capture();
        const code = await withEnv(WIFI.env, env, () => main(["flash", "--board", "ESP32", "--dry-run", path.join(dir, "x.js"), ...args], c.io));
        expect(code, msg).to.equal(2);
        expect(c.err()).to.include(msg);
      }
    });
  });
});
