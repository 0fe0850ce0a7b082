// The device module against the real nginx, configured exactly as `espruino-ota nginx
// --standalone` writes it: update, rollback (rollback() edits the version file) and a
// no-op check, over HTTP with Basic auth (ESP32, ESP8266_4MB) and over HTTPS with a
// self-signed certificate (ESP32: the ESP8266 firmware has no TLS). All on 127.0.0.1.
// Without nginx these tests do not run and say so (harness/external.ts); with CI set, they fail.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { otaBoard, call, sampleApp, publish, newRoot, installed } from "../harness/device.ts";
import { requireNginx, startNginx, type RunningNginx } from "../harness/nginx.ts";
import { requireTool, NGINX_TOOL } from "../harness/external.ts";
import { rollback } from "../tools/rollback.ts";
import { selfSignedCert } from "../tools/lib/tls.ts";
import type { Board, BoardName } from "../emulator/board.ts";

const USER = "fleet";
const PASSWORD = "s3cret:with-colon";
const NOOP_BUDGET = 400; // bytes, request and response together

describe("nginx: the binary is there", function () {
  before(function () { requireTool(this, NGINX_TOOL); });
  it("nginx -v runs (install it with .ci/run or apt-get install nginx)", () => {
    expect(requireNginx()).to.match(/nginx/);
  });
});

for (const scheme of ["http", "https"] as const) {
  describe(`nginx over ${scheme.toUpperCase()} with Basic auth`, function () {
    this.timeout(60000);
    let root: string;
    let ngx: RunningNginx;
    before(async function () {
      requireTool(this, NGINX_TOOL);
      root = newRoot();
      const tls = scheme == "https" ? await selfSignedCert(["localhost", "127.0.0.1"], mkdtempSync(join(tmpdir(), "ota-tls-"))) : undefined;
      ngx = await startNginx({ root, user: USER, password: PASSWORD, tls: tls && { cert: tls.certPath, key: tls.keyPath } });
    });
    after(async () => {
      await ngx?.stop();
      // nginx logs at "warn": anything there is worth a look.
      const errors = ngx?.errorLog().split("\n").filter((l) => /\[(emerg|alert|crit|error)\]/.test(l) && !/no user\/password was provided|user "intruder"/.test(l));
      expect(errors ?? [], "nginx error log").to.deep.equal([]);
    });

    const boards: BoardName[] = scheme == "https" ? ["ESP32"] : ["ESP32", "ESP8266_4MB"];
    for (const name of boards) {
      describe(name, () => {
        const project = `app-${name.toLowerCase()}`;
        let b: Board, opts: { host: string; project: string; files: string[]; user: string; password: string };
        before(async () => {
          opts = { host: ngx.url, project, files: [".bootcde", "main"], user: USER, password: PASSWORD };
          await publish(root, project, "v1.0.0", sampleApp("v1.0.0", opts));
          b = otaBoard(name);
        });

        it("installs v1.0.0 on a blank board, resets, and the app runs", async () => {
          b.powerOn();
          const r = await call(b, "update", opts);
          expect(r).to.deep.equal({ result: { updated: true, version: "v1.0.0" } });
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("main v1.0.0");
          const s = installed(b);
          expect(s).to.deep.include({ version: "v1.0.0", leftovers: [] });
          expect(s.files).to.deep.equal(sampleApp("v1.0.0", opts));
        });

        it("updates to v1.0.1 at the next boot", async () => {
          await publish(root, project, "v1.0.1", sampleApp("v1.0.1", opts));
          b.output = "";
          b.powerOn();
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("boot v1.0.0").and.contain("boot v1.0.1").and.contain("main v1.0.1");
          expect(installed(b)).to.deep.include({ version: "v1.0.1", previous: "v1.0.0", leftovers: [] });
          expect(installed(b).files).to.deep.equal(sampleApp("v1.0.1", opts));
        });

        it("rolls back to v1.0.0 when rollback() points the version file at it", async () => {
          const r = await rollback({ root, project, version: "v1.0.0" });
          expect(r).to.deep.include({ version: "v1.0.0", previous: "v1.0.1" });
          b.output = "";
          b.powerOn();
          await b.run({ timeout: 10000 });
          expect(b.output).to.contain("boot v1.0.1").and.contain("main v1.0.0");
          expect(installed(b)).to.deep.include({ version: "v1.0.0", previous: "v1.0.1", leftovers: [] });
          expect(installed(b).files).to.deep.equal(sampleApp("v1.0.0", opts));
        });

        it(`a no-op check is one request, under ${NOOP_BUDGET} bytes, and writes no flash`, async () => {
          const before = { ...b.httpStats };
          const ops = b.flash.opCount;
          const r = await call(b, "check", opts);
          expect(r).to.deep.equal({ result: { available: false, installed: "v1.0.0", latest: "v1.0.0" } });
          const requests = b.httpStats.requests - before.requests;
          const out = b.httpStats.bytesOut - before.bytesOut;
          const inn = b.httpStats.bytesIn - before.bytesIn;
          expect(requests).to.equal(1);
          expect(out + inn, `no-op check: ${out} bytes out + ${inn} bytes in`).to.be.below(NOOP_BUDGET);
          expect(b.flash.opCount).to.equal(ops);
        });

        it("bad credentials fail cleanly with EHTTP 401 and change nothing on the board", async () => {
          await publish(root, project, "v1.0.2", sampleApp("v1.0.2", opts));
          const ops = b.flash.opCount;
          const was = installed(b);
          for (const fn of ["update", "check"] as const) {
            const r = await call(b, fn, { ...opts, user: "intruder", password: "wrong" });
            expect(r.err?.code, JSON.stringify(r)).to.equal("EHTTP");
            expect(r.err?.message).to.contain("401");
          }
          // no reset either (a pending release's confirm timer may still be armed)
          expect(await b.settle({ timeout: 1000 })).to.be.oneOf(["idle", "timeout"]);
          expect(b.flash.opCount).to.equal(ops);
          expect(installed(b)).to.deep.equal(was);
          expect(ngx.accessLog()).to.match(new RegExp(`GET /${project}/version HTTP/1\\.1" 401 `));
        });
      });
    }
  });
}
