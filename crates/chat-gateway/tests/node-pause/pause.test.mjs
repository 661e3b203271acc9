// A node paused (SIGSTOP) while its sockets stay connected, then continued (SIGCONT): the room
// emits Redis held for it arrive in one burst; its sockets get `sync:hint` and miss nothing.
// Started by tests/multinode.rs, which passes CHAT_NODES, CHAT_SECRET and CHAT_PAUSE_PID (the
// second node's process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, conversation, connect, closeAll, sleep } from "../blackbox/lib.mjs";
import { recipient, sender, until } from "../live-faults.mjs";

const [N1, N2] = (process.env.CHAT_NODES ?? "").split(",");
const PID = Number(process.env.CHAT_PAUSE_PID);
const PAUSE_MS = 6000;

test("a paused node's sockets get sync:hint when it continues, and miss nothing", { timeout: 40_000 }, async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: uuid(), url: N1 });
  const B = await connect(b.token, { deviceId: uuid(), url: N2, timeout: 15_000 });
  const got = recipient(B.socket, b, c, N2);
  const send = sender(A.socket, c, 5);
  let stopped = false;
  try {
    await sleep(500);
    process.kill(PID, "SIGSTOP");
    stopped = true;
    await sleep(PAUSE_MS);
    process.kill(PID, "SIGCONT");
    stopped = false;
    const continued = Date.now();
    assert.ok(await until(() => got.hints.some((h) => h.at >= continued), 10_000), "B got sync:hint after its node continued");
    const hintMs = got.hints.find((h) => h.at >= continued).at - continued;
    await sleep(500);
    await send.stop();
    assert.equal(B.socket.connected, true, "B stayed connected");
    const complete = () => send.acked.every((id) => got.has(id));
    if (!complete()) await until(complete, 3000);
    await got.settled();
    const missing = send.acked.filter((id) => !got.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${send.acked.length} acknowledged messages never reached B`);
    const byFetch = send.acked.filter((id) => !got.live.has(id)).length;
    console.log(`node paused ${PAUSE_MS} ms: ${send.acked.length} acked, ${byFetch} recovered by history, sync:hint ${hintMs} ms after SIGCONT, slowest ack ${send.slowest} ms, ${send.refused} refused`);
  } finally {
    if (stopped) process.kill(PID, "SIGCONT");
    await send.stop();
    closeAll(A, B);
  }
});
