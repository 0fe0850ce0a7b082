// The real-interpreter runner itself (harness/real-board.ts): Storage written byte for
// byte, and how a start ends (idle, reboot, power cut). Runs only with ESPRUINO_BIN.
import { expect } from "chai";
import { describeReal } from "../harness/gate.ts";
import { RealBoard, markOf, marksOf } from "../harness/real-board.ts";
import { committedModules } from "../harness/real-ota.ts";

describeReal("real interpreter: the board runner", function () {
  this.timeout(30_000);
  let b: RealBoard;
  beforeEach(() => (b = new RealBoard()));
  afterEach(() => b.dispose());

  it("stores files byte for byte: every byte value, and the module text", async () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    await b.store({ bin: bytes, ota: committedModules().otaMin }); // store() checks length and CRC-32 on the board
    expect(await b.list()).to.deep.equal({ bin: 3000, ota: committedModules().otaMin.length });
  });

  it("runs boot code at a start with -e, and tells an idle exit from a reboot", async () => {
    await b.store({ ".bootcde": 'print("@@bootcde 1");' });
    const idle = await b.start(`mark("code", 1);`);
    expect(idle.end).to.equal("idle");
    expect(idle.marks.map((m) => m.tag)).to.deep.equal(["bootcde", "code"]);
    await b.store({ ".bootcde": 'if (!require("Storage").read("rebooted")) { require("Storage").write("rebooted", "1"); E.reboot(); }' });
    const starts = await b.run(`mark("code", 1);`);
    expect(starts.map((s) => s.end)).to.deep.equal(["reboot", "idle"]);
  });

  it("cuts the power when stopWhen says so, and when asked", async () => {
    const stopped = await b.start(`var n = 0; setInterval(function () { mark("tick", n++); }, 5);`, { stopWhen: (m) => m.value == 3 });
    expect(stopped.end).to.equal("stopped");
    expect(marksOf(stopped, "tick").slice(0, 4)).to.deep.equal([0, 1, 2, 3]); // a few more may get out before the kill lands
    const running = b.start(`mark("up", 1); setInterval(function () {}, 1000);`, { onMark: (_m, board) => board.cut() });
    const cut = await running;
    expect(cut.end).to.equal("cut");
    expect(markOf(cut, "up")).to.equal(1);
  });
});
