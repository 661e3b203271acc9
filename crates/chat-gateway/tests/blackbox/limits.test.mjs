// Rate limits and size limits (contract 1 defaults, 4 `rate_limit_exceeded`, 4.1, 6 `429`).
// Covers: the 11th send within a minute → `rate_limit_exceeded` with `retryAfter` (ack,
// `error:rate_limit_exceeded` ErrorPayload, `message:failed`), nothing saved, limits are per user,
// a resend of a stored messageId is still answered (`duplicate: true`); `message:read` 61st →
// rate limited, and REST read then answers `429` with a `Retry-After` header; `typing:start` 31st
// (`typing:stop` never counts nor is refused); block 6th (socket and REST 429), mute 6th (socket
// and REST 429), while unblock and unmute never count nor are refused; a WebSocket message
// over 65536 bytes closes that connection (close code checked against 1009) while other clients
// carry on, and one just under the limit passes; an HTTP body over 65536 bytes → 413.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  user, uuid, conversation, connect, ack, waitFor, message, pair, history, rest, closeAll, expectFailure,
  disconnected, sleep,
} from "./lib.mjs";

function assert429(r) {
  assert.equal(r.status, 429, JSON.stringify(r.body));
  const ra = r.headers.get("retry-after");
  assert.ok(ra !== null, "Retry-After header");
  assert.ok(/^\d+$/.test(ra) && Number(ra) >= 1 && Number(ra) <= 60, `Retry-After: ${ra}`);
  assert.match(r.headers.get("content-type"), /^application\/problem\+json/);
  assert.equal(r.body.code, "rate_limit_exceeded");
  assert.equal(r.body.status, 429);
}

test("the 11th send within a minute: rate_limit_exceeded with retryAfter, not saved; other users unaffected", async () => {
  const p = await pair();
  try {
    const { a, c, A1, B1 } = p;
    const first = message(c, "m1");
    await ack(A1.socket, "message:send", first);
    for (let i = 2; i <= 10; i++) {
      const d = await ack(A1.socket, "message:send", message(c, `m${i}`));
      assert.equal(d.serverSequence, i);
    }
    const f = await expectFailure(A1.socket, "message:send", message(c, "m11"), "rate_limit_exceeded", assert);
    assert.ok(Number.isInteger(f.error.retryAfter) && f.error.retryAfter >= 1 && f.error.retryAfter <= 60);
    assert.equal(f.error.conversationId, c);
    // the quota is per user, across devices
    await expectFailure(p.A2.socket, "message:send", message(c, "m11 again"), "rate_limit_exceeded", assert);
    assert.equal((await history(a, c)).body.items.length, 10);
    // a resend of a stored message is still answered with the original
    const dup = await ack(A1.socket, "message:send", first);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.serverSequence, 1);
    // b has its own quota
    const d = await ack(B1.socket, "message:send", message(c, "b is fine"));
    assert.equal(d.serverSequence, 11);
  } finally {
    p.close();
  }
});

test("read limit: the 61st read is refused, REST read then answers 429 with Retry-After", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    await ack(A1.socket, "message:send", message(c, "read me"));
    for (let i = 0; i < 60; i++) {
      const r = await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 1 });
      assert.ok(!r.error, `read ${i + 1}: ${JSON.stringify(r)}`);
    }
    await expectFailure(B1.socket, "message:read", { conversationId: c, lastReadSequence: 1 }, "rate_limit_exceeded", assert);
    assert429(await rest("POST", `/conversations/${c}/read`, { token: b.token, body: { lastReadSequence: 1 } }));
  } finally {
    p.close();
  }
});

test("typing limit: the 31st typing:start is refused; typing:stop never counts and is never refused", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    for (let i = 0; i < 30; i++) {
      const r = await ack(B1.socket, "typing:start", { conversationId: c });
      assert.ok(!r.error, `typing:start ${i + 1}: ${JSON.stringify(r)}`);
      const s = await ack(B1.socket, "typing:stop", { conversationId: c });
      assert.deepEqual(s, { conversationId: c, isTyping: false }, `typing:stop ${i + 1} counted toward the quota`);
    }
    await expectFailure(B1.socket, "typing:start", { conversationId: c }, "rate_limit_exceeded", assert);
    // Over the quota, a stop is still answered and still clears.
    const from = A1.socket.log.length;
    const s = await ack(B1.socket, "typing:stop", { conversationId: c });
    assert.deepEqual(s, { conversationId: c, isTyping: false });
    const r = await ack(B1.socket, "typing:start", { conversationId: c });
    assert.equal(r.error?.code, "rate_limit_exceeded", "still over the quota");
    assert.ok(A1.socket.log.slice(from).every(([n, x]) => n !== "typing:indicator" || x.userId !== b.id || !x.isTyping));
  } finally {
    p.close();
  }
});

test("block limit: the 6th block is refused (socket and REST 429); unblock never counts and is never refused", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, B1 } = p;
    for (let i = 0; i < 5; i++) {
      const r = await ack(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id });
      assert.ok(!r.error, `block ${i + 1}: ${JSON.stringify(r)}`);
      const u = await ack(B1.socket, "unblock:user", { conversationId: c, blockedUserId: a.id });
      assert.ok(!u.error, `unblock ${i + 1} was refused: ${JSON.stringify(u)}`);
    }
    await expectFailure(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id }, "rate_limit_exceeded", assert);
    assert429(await rest("POST", `/conversations/${c}/block`, { token: b.token, body: { blockedUserId: a.id } }));
    const u = await ack(B1.socket, "unblock:user", { conversationId: c, blockedUserId: a.id });
    assert.deepEqual(u, { success: true, conversationId: c, blockedUserId: a.id });
    const ru = await rest("POST", `/conversations/${c}/unblock`, { token: b.token, body: { blockedUserId: a.id } });
    assert.equal(ru.status, 200, `REST unblock over the quota: ${JSON.stringify(ru.body)}`);
    // REST alone, for the other user: a block over the quota is refused, lifting it is not.
    for (let i = 0; i < 5; i++) {
      const r = await rest("POST", `/conversations/${c}/block`, { token: a.token, body: { blockedUserId: b.id } });
      assert.equal(r.status, 200, `REST block ${i + 1}: ${JSON.stringify(r.body)}`);
      if (i < 4) {
        const r2 = await rest("POST", `/conversations/${c}/unblock`, { token: a.token, body: { blockedUserId: b.id } });
        assert.equal(r2.status, 200, `REST unblock ${i + 1}: ${JSON.stringify(r2.body)}`);
      }
    }
    assert429(await rest("POST", `/conversations/${c}/block`, { token: a.token, body: { blockedUserId: b.id } }));
    const from = A1.socket.log.length;
    const lifted = await rest("POST", `/conversations/${c}/unblock`, { token: a.token, body: { blockedUserId: b.id } });
    assert.equal(lifted.status, 200, `REST unblock over the quota: ${JSON.stringify(lifted.body)}`);
    await waitFor(A1.socket, "user:unblocked", (x) => x.blockedUserId === b.id, { timeout: 2000, from });
  } finally {
    p.close();
  }
});

test("mute limit: the 6th mute is refused (socket and REST 429); unmute never counts and is never refused", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, B1 } = p;
    for (let i = 0; i < 5; i++) {
      const r = await ack(A1.socket, "mute:conversation", { conversationId: c });
      assert.ok(!r.error, `mute ${i + 1}: ${JSON.stringify(r)}`);
      const u = await ack(A1.socket, "unmute:conversation", { conversationId: c });
      assert.ok(!u.error, `unmute ${i + 1} was refused: ${JSON.stringify(u)}`);
    }
    await expectFailure(A1.socket, "mute:conversation", { conversationId: c }, "rate_limit_exceeded", assert);
    assert429(await rest("POST", `/conversations/${c}/mute`, { token: a.token, body: {} }));
    const u = await ack(A1.socket, "unmute:conversation", { conversationId: c });
    assert.ok(!u.error && u.success === true, `unmute over the quota: ${JSON.stringify(u)}`);
    const ru = await rest("POST", `/conversations/${c}/unmute`, { token: a.token, body: {} });
    assert.equal(ru.status, 200, `REST unmute over the quota: ${JSON.stringify(ru.body)}`);
    for (let i = 0; i < 5; i++) {
      const r = await rest("POST", `/conversations/${c}/mute`, { token: b.token, body: {} });
      assert.equal(r.status, 200);
      if (i < 4) assert.equal((await rest("POST", `/conversations/${c}/unmute`, { token: b.token, body: {} })).status, 200);
    }
    assert429(await rest("POST", `/conversations/${c}/mute`, { token: b.token, body: {} }));
    const from = B1.socket.log.length;
    const lifted = await rest("POST", `/conversations/${c}/unmute`, { token: b.token, body: {} });
    assert.equal(lifted.status, 200, `REST unmute over the quota: ${JSON.stringify(lifted.body)}`);
    await waitFor(B1.socket, "conversation:unmuted", (x) => x.conversationId === c, { timeout: 2000, from });
  } finally {
    p.close();
  }
});

/** Watches the raw WebSocket of a socket.io-client socket: resolves to the close code. */
function rawClose(socket) {
  const ws = socket.io.engine.transport.ws;
  return new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
}

test("a WebSocket message just under 65536 bytes is accepted", async () => {
  const p = await pair();
  try {
    const { c, A1 } = p;
    const m = message(c, "big envelope", { padding: "x".repeat(60000) });
    const d = await ack(A1.socket, "message:send", m);
    assert.equal(d.serverSequence, 1);
    assert.ok(A1.socket.connected);
  } finally {
    p.close();
  }
});

test("a WebSocket message over 65536 bytes closes that connection; the others carry on", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1 } = p;
    const closed = rawClose(A1.socket);
    const gone = disconnected(A1.socket);
    A1.socket.emit("message:send", message(c, "x".repeat(70000)));
    const [reason] = await gone;
    const { code } = await closed;
    assert.equal(reason, "transport close");
    // the others keep working
    const m = message(c, "still here");
    const d = await ack(B1.socket, "message:send", m);
    assert.equal(d.serverSequence, 1);
    await waitFor(A2.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: 2000 });
    const back = await ack(A2.socket, "message:send", message(c, "me too"));
    assert.equal(back.serverSequence, 2);
    const again = await connect(a.token, { deviceId: A1.deviceId });
    closeAll(again);
    assert.equal((await history(b, c)).body.items.length, 2, "the oversized message was not stored");
    assert.ok(Number.isInteger(code));
  } finally {
    p.close();
  }
});

// engineioxide alone closes with no status code (1005); vendor/engineioxide sends 1009.
test("the connection closed for an oversized message gets close code 1009 (message too big)", async () => {
  const p = await pair();
  try {
    const { c, A1 } = p;
    const closed = rawClose(A1.socket);
    A1.socket.emit("message:send", message(c, "y".repeat(70000)));
    const { code, reason } = await closed;
    assert.equal(code, 1009, `close code observed by the client: ${code} (reason "${reason}")`);
  } finally {
    p.close();
  }
});

test("an HTTP body over 65536 bytes is refused with 413", async () => {
  const u = user("bigbody");
  const r = await rest("POST", "/conversations/create/one-to-one", {
    token: u.token, raw: JSON.stringify({ participantId: uuid(), padding: "x".repeat(70000) }), headers: { "content-type": "application/json" },
  });
  assert.equal(r.status, 413);
});
