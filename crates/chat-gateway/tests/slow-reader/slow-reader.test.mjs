// Contract 4.6: a socket whose outgoing buffer is full is disconnected (it resumes and gets the
// rest), never skipped while it stays connected. Started by tests/live_faults.rs, which passes
// CHAT_URL and CHAT_SECRET (a server with a high send rate limit).
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, conversation, connect, ack, waitFor, message, closeAll, disconnected, history } from "../blackbox/lib.mjs";

test("a socket that stops reading is disconnected, and resuming gets every message", { timeout: 40_000 }, async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: uuid() });
  const deviceId = uuid();
  const B = await connect(b.token, { deviceId });
  let R;
  try {
    const live = new Map(); // messageId -> serverSequence, as B read them live
    B.socket.on("message:received", (m) => live.set(m.messageId, m.serverSequence));
    // B stops reading: its TCP receive window closes, the server's buffers fill.
    const raw = B.socket.io.engine.transport.ws._socket;
    raw.pause();
    // The server closing B's socket is seen by A as B going offline.
    let gone = false;
    const offline = waitFor(A.socket, "presence:changed", (p) => p.userId === b.id && p.status === "offline", { timeout: 35_000 });
    offline.then(() => { gone = true; }, () => {});
    const started = Date.now();
    const sent = [];
    const body = "x".repeat(3800);
    while (!gone && sent.length < 12_000) {
      const batch = Array.from({ length: 32 }, (_, i) => message(c, `${sent.length + i} ${body}`));
      const acks = await Promise.all(batch.map((m) => ack(A.socket, "message:send", m, 10_000)));
      for (const r of acks) assert.equal(r.status, "delivered", JSON.stringify(r));
      sent.push(...batch);
    }
    await offline;
    const detectedMs = Date.now() - started;
    // B reads again: what the kernel held arrives, then the close.
    raw.resume();
    const [reason] = await disconnected(B.socket, 10_000);
    assert.ok(live.size < sent.length, `the buffer filled (${live.size} of ${sent.length} read live)`);
    // Resume exactly where B stands.
    const last = Math.max(0, ...live.values());
    R = await connect(b.token, { deviceId, lastSequences: { [c]: last } });
    assert.equal(R.event, "reconnected");
    const got = new Set(live.keys());
    let after = last;
    for (const m of R.hello.pendingMessages) { got.add(m.messageId); after = Math.max(after, m.serverSequence); }
    let more = R.hello.hasMore;
    while (more) {
      const page = await history(b, c, { afterSequence: after, limit: 200 });
      assert.equal(page.status, 200);
      for (const m of page.body.items) { got.add(m.messageId); after = Math.max(after, m.serverSequence); }
      more = page.body.hasMore;
    }
    const missing = sent.filter((m) => !got.has(m.messageId)).length;
    assert.equal(missing, 0, `${missing} of ${sent.length} acknowledged messages never reached B`);
    console.log(`slow reader: ${sent.length} sent, ${live.size} read live, disconnected (${reason}) after ${detectedMs} ms, ${R.hello.pendingMessages.length} pending on resume`);
  } finally {
    closeAll(A, B, R);
  }
});
