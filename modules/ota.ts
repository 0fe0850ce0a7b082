// espruino-ota: over-the-air updates from a static web server.
//
//   require("ota").update({host: "http://192.168.2.100", project: "sample", files: [".bootcde"]});
//
// This file is what require("ota") keeps in RAM while the app runs: five small functions.
// The update machinery (update.ts: transport, plan, stage, verify, commit) is compiled by
// scripts/build.ts into the function __update(), which builds it afresh for each update()
// or check() and lets it go when they call back, so the app has that RAM the rest of the time.
import type { OtaOptions as Options, OtaCallback as Callback, UpdateResult, CheckResult, OtaStatus as Status, OtaError, OtaErrorCode } from "ota";
import { STATE, PENDING, LAST_ERROR, E_BUSY } from "./formats.ts";

// Supplied by scripts/build.ts: update.ts, built into one function of these parameters.
declare function __update(o: Options, checkOnly: boolean | undefined, done: Callback<UpdateResult | CheckResult>): void;

var busy = false;

// Installs the server's live release if it differs from the installed one, then resets.
// Reports through cb, or without one through a Promise (made only then: with its callbacks
// it would hold about 40 JsVars per call). One update or check runs at a time. (checkOnly is
// check()'s: one function serves both, as each function the module keeps costs the app RAM.)
function update(o: Options, cb?: Callback<any>, checkOnly?: boolean): Promise<any> | void {
  if (!cb)
    return new Promise(function (ok, no) {
      update(o, function (err: OtaError | null, r: any) {
        if (err) no(err);
        else ok(r);
      }, checkOnly);
    });
  if (busy) {
    // from a later tick, as every other result
    var e = new Error("ota: busy") as OtaError;
    e.code = E_BUSY as OtaErrorCode;
    return void setTimeout(cb, 0, e);
  }
  busy = true;
  __update(o, checkOnly, function (err, r) {
    busy = false;
    cb(err, r);
  });
}
exports.update = update;

// Asks whether the server's live release differs (with opts.key: and is validly signed),
// and if so resets per opts.reset, so that the boot code's update() installs it.
exports.check = function (o: Options, cb?: Callback<CheckResult>): Promise<CheckResult> | void {
  return update(o, cb, true);
};

// The installed version, or undefined.
exports.version = function (): string | undefined {
  return (require("Storage").readJSON(STATE, true) || {}).v;
};

// Marks the running release as good, so no later start rolls it back. Returns whether it
// was pending.
exports.confirm = function (): boolean {
  var S = require("Storage"), pending = S.read(PENDING) !== undefined;
  if (pending) S.erase(PENDING);
  return pending;
};

exports.status = function (): Status {
  var S = require("Storage"), st = S.readJSON(STATE, true) || {}, counter = S.read(PENDING) || "";
  return {
    version: st.v, previous: st.p, pending: !!counter,
    // the counter holds one byte per start, then "\xFF"s up to maxBoots + 1
    boots: counter.length - counter.split("\xFF").length + 1,
    lastError: S.read(LAST_ERROR),
  };
};
