// Helpers of test/real-security.test.ts and test/real-defects.test.ts: real-interpreter boards
// (harness/real-board.ts) driven through the `ota` API one start at a time, with releases whose
// app never updates by itself, so each test says which start runs update() or check().
// (Their natural home is harness/real-ota.ts, which the harness owns.)
import { expect } from "chai";
import { RealBoard, MARK_FN, markOf, type StartResult } from "./real-board.ts";
import { committedModules, flashedFiles } from "./real-ota.ts";
import { publish } from "./device.ts";

export const FLASHED = flashedFiles(committedModules());

/** A release's files when it has no manifest (those published here have one, naming the same). */
export const FILES = [".bootcde", "lib.js"];

/** A release whose .bootcde marks "boot" <version> (then runs `extra`); it never updates by itself. */
export const app = (v: string, extra = ""): Record<string, string> => ({
  ".bootcde": `${MARK_FN}\nmark("boot", ${JSON.stringify(v)});\n${extra}`,
  "lib.js": `exports.v = "${v}";//` + "0123456789abcdef".repeat(20),
});

/** Device code: require("ota").<fn>(opts), marking fn with the error's code and message or the result, then `then`. */
export const drive = (fn: "update" | "check", opts: object, then = "") =>
  `require("ota").${fn}(${JSON.stringify(opts)}, function (e, r) { mark(${JSON.stringify(fn)}, e ? {code: e.code, message: e.message} : r); ${then} });`;

export const STATUS = `mark("status", require("ota").status());`;

/** Device code marking `tag`: every Storage file's [length, CRC-32], to compare a board before and after. */
export const storageProbe = (tag: string) =>
  `(function () { var S = require("Storage"), o = {}; S.list().forEach(function (f) { var d = S.read(f); o[f] = [d.length, E.CRC32(d) >>> 0]; }); mark(${JSON.stringify(tag)}, o); })();`;

/** What a start printed, without terminal escapes. */
export const printed = (s: StartResult) => s.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");

/** A board with the updater's files and a hand-flashed app, then v1 of `project` installed by update() and started (not pending). */
export async function boardWithV1(root: string, project: string, opts: object, key?: string): Promise<RealBoard> {
  const b = new RealBoard();
  await b.store({ ...FLASHED, ...app("hand") });
  await publish(root, project, "v1", app("v1"), "prefix", key);
  expect(markOf(await b.start(drive("update", opts)), "update")).to.deep.include({ updated: true, version: "v1" });
  expect(markOf(await b.start(""), "boot")).to.equal("v1");
  return b;
}

/** Publishes `v`, update() stages it, and the next start (running `code`) installs it; returns that start. */
export async function install(b: RealBoard, root: string, project: string, v: string, files: Record<string, string>, opts: object, code = "", key?: string): Promise<StartResult> {
  await publish(root, project, v, files, "prefix", key);
  expect(markOf(await b.start(drive("update", opts)), "update")).to.deep.include({ updated: true, version: v });
  const s = await b.start(code);
  expect(markOf(s, "boot")).to.equal(v);
  return s;
}
