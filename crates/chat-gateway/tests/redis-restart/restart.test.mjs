// Two nodes on a private Redis, which this test kills and starts again (same port, nothing
// kept): room emits must cross nodes again once the nodes have reconnected and resubscribed.
// Started by tests/multinode.rs, which passes CHAT_NODES, CHAT_SECRET, CHAT_REDIS_PORT and
// CHAT_REDIS_PID.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { user, uuid, conversation, connect, ack, waitFor, message, closeAll, sleep } from "../blackbox/lib.mjs";

const [N1, N2] = (process.env.CHAT_NODES ?? "").split(",");
const PORT = process.env.CHAT_REDIS_PORT;

/** Sends from A until B receives one (each attempt waits `each` ms); returns the attempts. */
async function crossesWithin(A, B, c, ms, each = 500) {
  const until = Date.now() + ms;
  for (let attempt = 1; Date.now() < until; attempt++) {
    const m = message(c, `attempt ${attempt}`);
    const r = await ack(A.socket, "message:send", m).catch((e) => ({ error: { code: String(e) } }));
    if (r.status === "delivered") {
      try {
        await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: each });
        return attempt;
      } catch { /* not yet */ }
    } else {
      await sleep(each);
    }
  }
  throw new Error(`no message crossed the nodes within ${ms} ms`);
}

test("room emits cross nodes again after Redis restarts", { timeout: 60_000 }, async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: uuid(), url: N1 });
  const B = await connect(b.token, { deviceId: uuid(), url: N2 });
  let redis;
  try {
    assert.equal(await crossesWithin(A, B, c, 3000), 1, "crosses at once before the restart");
    assert.equal(await crossesWithin(B, A, c, 3000), 1, "both ways");
    process.kill(Number(process.env.CHAT_REDIS_PID), "SIGKILL");
    await sleep(300);
    redis = spawn("redis-server", ["--port", PORT, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    // Reconnects back off up to 5 s; then each node's subscriber resubscribes.
    assert.ok(await crossesWithin(A, B, c, 20_000) >= 1, "node 1 to node 2");
    assert.ok(await crossesWithin(B, A, c, 20_000) >= 1, "node 2 to node 1");
  } finally {
    closeAll(A, B);
    redis?.kill("SIGKILL");
  }
});
