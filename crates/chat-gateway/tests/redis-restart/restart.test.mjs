// Two nodes on a private Redis, which these tests kill and start again (same port, nothing
// kept): room emits must cross nodes again once the nodes have reconnected and resubscribed,
// what was published meanwhile must reach a recipient who stayed connected (`sync:hint`, then
// history), and presence must come back at once. Started by tests/multinode.rs, which passes
// CHAT_NODES, CHAT_SECRET, CHAT_REDIS_PORT and CHAT_REDIS_PID.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { user, uuid, conversation, connect, ack, waitFor, message, closeAll, sleep, rest } from "../blackbox/lib.mjs";
import { recipient, sender, until } from "../live-faults.mjs";

const [N1, N2] = (process.env.CHAT_NODES ?? "").split(",");
const PORT = process.env.CHAT_REDIS_PORT;

// The Redis running now: the harness's at first, then the one the last restart started.
let redisPid = Number(process.env.CHAT_REDIS_PID);
let redisChild;

/** Kills Redis (SIGKILL), waits `downMs`, starts a fresh one on the same port; returns when it was started. */
async function restartRedis(downMs = 300) {
  process.kill(redisPid, "SIGKILL");
  await sleep(downMs);
  redisChild = spawn("redis-server", ["--port", PORT, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  redisPid = redisChild.pid;
  return Date.now();
}

after(() => redisChild?.kill("SIGKILL"));

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
  try {
    assert.equal(await crossesWithin(A, B, c, 3000), 1, "crosses at once before the restart");
    assert.equal(await crossesWithin(B, A, c, 3000), 1, "both ways");
    await restartRedis();
    // Reconnects back off up to 5 s; then each node's subscriber resubscribes.
    assert.ok(await crossesWithin(A, B, c, 20_000) >= 1, "node 1 to node 2");
    assert.ok(await crossesWithin(B, A, c, 20_000) >= 1, "node 2 to node 1");
  } finally {
    closeAll(A, B);
  }
});

test("a recipient who stays connected gets every acknowledged message across a Redis restart, and presence returns at once", { timeout: 40_000 }, async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: uuid(), url: N1 });
  const B = await connect(b.token, { deviceId: uuid(), url: N2 });
  const got = recipient(B.socket, b, c, N2);
  const send = sender(A.socket, c, 10);
  try {
    await sleep(500);
    const restarted = await restartRedis();
    // Presence: b (on node 2) is online again for a (asking node 1) soon after Redis returns.
    const online = async () => {
      const r = await rest("GET", "/conversations/chat-list", { token: a.token, base: N1 }).catch(() => null);
      const item = r?.status === 200 ? r.body.items.find((i) => i.conversationId === c) : undefined;
      return item?.participants.find((p) => p.userId === b.id)?.presence === "online";
    };
    assert.ok(await until(online, 5000), "b is online again within 5 s of Redis returning");
    const presenceMs = Date.now() - restarted;
    // Node 2 resubscribed: its sockets are told where the conversations stand.
    assert.ok(await until(() => got.hints.some((h) => h.at >= restarted), 10_000), "B got sync:hint after Redis returned");
    const hintMs = got.hints.find((h) => h.at >= restarted).at - restarted;
    await sleep(1000);
    await send.stop();
    // Every acknowledged message reached B, live or by the hint's fetch.
    const complete = () => send.acked.every((id) => got.has(id));
    if (!complete()) {
      // The last few may still be on their way live.
      await until(complete, 3000);
    }
    await got.settled();
    const missing = send.acked.filter((id) => !got.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${send.acked.length} acknowledged messages never reached B`);
    const byFetch = send.acked.filter((id) => !got.live.has(id)).length;
    console.log(`redis restart: ${send.acked.length} acked (${send.refused} refused while Redis was down), ${byFetch} recovered by history after sync:hint (${got.hints.length} hints, first ${hintMs} ms after Redis returned), presence back after ${presenceMs} ms, slowest ack ${send.slowest} ms`);
  } finally {
    await send.stop();
    closeAll(A, B);
  }
});
