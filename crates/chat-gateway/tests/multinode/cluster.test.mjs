// The production profile: three gateway processes behind no balancer, one PostgreSQL, one
// Redis. Every test spreads one user's clients over different nodes and checks that the
// contract holds as if it were one server. Started by tests/multinode.rs, which passes
// CHAT_NODES (three base URLs), CHAT_SECRET, CHAT_KILL_PID (the third node) and CHAT_LEASE_MS.
// Tests run in order; the last one kills the third node.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  user, uuid, conversation, connect, ack, waitFor, collect, rest, message, closeAll, sleep, disconnected,
} from "../blackbox/lib.mjs";

const [N1, N2, N3] = (process.env.CHAT_NODES ?? "").split(",");
const LEASE_MS = Number(process.env.CHAT_LEASE_MS ?? 1500);
assert.ok(N1 && N2 && N3, "CHAT_NODES names three nodes");

/** Connects `u` to node `url` with a fresh (or given) device id. */
async function on(url, u, deviceId = uuid(), extra = {}) {
  const c = await connect(u.token, { deviceId, url, ...extra });
  c.deviceId = deviceId;
  return c;
}

test("a message sent on one node reaches the peer's devices, unread counts and receipts on the others", async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await on(N1, a), B2 = await on(N2, b), B3 = await on(N3, b);
  try {
    const m = message(c, "across nodes");
    const delivered = await ack(A.socket, "message:send", m);
    assert.equal(delivered.status, "delivered");
    for (const B of [B2, B3]) {
      const got = await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId);
      assert.equal(got.serverSequence, delivered.serverSequence);
      const unread = await waitFor(B.socket, "unread_count:updated", (x) => x.conversationId === c);
      assert.equal(unread.unreadCount, 1);
    }
    // Bob reads on node 3: Ada (node 1) gets the receipt, Bob's node-2 device the new count.
    const from = B2.socket.log.length;
    const read = await ack(B3.socket, "message:read", { conversationId: c, lastReadSequence: delivered.serverSequence });
    assert.equal(read.newUnreadCount, 0);
    const receipt = await waitFor(A.socket, "read_receipt:received", (x) => x.userId === b.id);
    assert.equal(receipt.lastReadSequence, delivered.serverSequence);
    const zero = await waitFor(B2.socket, "unread_count:updated", (x) => x.unreadCount === 0, { from });
    assert.equal(zero.conversationId, c);
  } finally {
    closeAll(A, B2, B3);
  }
});

test("typing on one node is seen on another", async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await on(N1, a), B = await on(N2, b);
  try {
    assert.deepEqual(await ack(A.socket, "typing:start", { conversationId: c }), { conversationId: c, isTyping: true });
    const typing = await waitFor(B.socket, "typing:indicator", (x) => x.userId === a.id && x.isTyping);
    assert.equal(typing.conversationId, c);
    const cleared = await waitFor(B.socket, "typing:indicator", (x) => x.userId === a.id && !x.isTyping, { timeout: 3000 });
    assert.equal(cleared.conversationId, c);
  } finally {
    closeAll(A, B);
  }
});

test("presence aggregates over devices on different nodes", async () => {
  const a = user("pres"), w = user("watcher");
  await conversation(a, w);
  const W = await on(N1, w);
  const mine = (x) => x.userId === a.id;
  let A2, A3;
  try {
    A2 = await on(N2, a);
    assert.equal((await waitFor(W.socket, "presence:changed", mine)).status, "online");
    A3 = await on(N3, a);
    assert.deepEqual(await collect(W.socket, "presence:changed", 400, mine), [], "a second device on another node says nothing");
    await ack(A2.socket, "presence:update", { status: "away" });
    assert.deepEqual(await collect(W.socket, "presence:changed", 400, mine), [], "one device away, the other online");
    let from = W.socket.log.length;
    await ack(A3.socket, "presence:update", { status: "away" });
    assert.equal((await waitFor(W.socket, "presence:changed", mine, { from })).status, "away");
    A2.socket.close();
    assert.deepEqual(await collect(W.socket, "presence:changed", 400, mine), [], "an away device leaving changes nothing");
    from = W.socket.log.length;
    A3.socket.close();
    assert.equal((await waitFor(W.socket, "presence:changed", mine, { from })).status, "offline");
  } finally {
    closeAll(W, A2, A3);
  }
});

test("a block on one node is enforced on another, with the room left and rejoined", async () => {
  const a = user("blocker"), b = user("blocked");
  const c = await conversation(a, b);
  const A = await on(N1, a), B = await on(N2, b);
  try {
    const blocked = await ack(A.socket, "block:user", { conversationId: c, blockedUserId: b.id });
    assert.equal(blocked.success, true);
    const refused = await ack(B.socket, "message:send", message(c, "let me in"));
    assert.equal(refused.error.code, "blocked");
    assert.equal(refused.error.reason, "user_blocked");
    // Bob's socket (node 2) left the room: Ada's read receipt does not reach it.
    const seq = (await history(a, c)).length;
    const from = B.socket.log.length;
    await ack(A.socket, "message:read", { conversationId: c, lastReadSequence: seq });
    assert.deepEqual(await collect(B.socket, "read_receipt:received", 400), [], "out of the room while blocked");
    assert.equal(B.socket.log.slice(from).filter(([n]) => n === "read_receipt:received").length, 0);

    await ack(A.socket, "unblock:user", { conversationId: c, blockedUserId: b.id });
    const m = message(c, "welcome back");
    await ack(A.socket, "message:send", m);
    const got = await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId);
    assert.equal(got.senderId, a.id, "back in the room on node 2 after the unblock on node 1");
  } finally {
    closeAll(A, B);
  }
});

async function history(u, c) {
  const r = await rest("GET", `/conversations/${c}/messages?limit=200`, { token: u.token, base: N3 });
  assert.equal(r.status, 200);
  return r.body.items;
}

test("a rate limit counts sends on every node", async () => {
  const a = user("chatty"), b = user("bob");
  const c = await conversation(a, b);
  const devices = [await on(N1, a), await on(N2, a), await on(N3, a)];
  try {
    // The default quota: 10 sends a minute per user, wherever they arrive.
    for (let i = 0; i < 10; i++) {
      const r = await ack(devices[i % 3].socket, "message:send", message(c, `n${i}`));
      assert.equal(r.status, "delivered", `send ${i}: ${JSON.stringify(r)}`);
    }
    for (const d of devices) {
      const r = await ack(d.socket, "message:send", message(c, "one too many"));
      assert.equal(r.error?.code, "rate_limit_exceeded", JSON.stringify(r));
      assert.ok(r.error.retryAfter >= 1);
    }
    assert.equal((await history(a, c)).length, 10);
  } finally {
    closeAll(devices);
  }
});

test("a conversation created on one node joins both users' sockets on the others at once", async () => {
  const a = user("ada"), b = user("bob");
  const A = await on(N1, a), B = await on(N2, b);
  try {
    const created = await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: b.id }, base: N3 });
    assert.equal(created.status, 201);
    const c = created.body.conversationId;
    const m = message(c, "first");
    await ack(A.socket, "message:send", m);
    const got = await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId);
    assert.equal(got.conversationId, c);
    const back = message(c, "reply");
    await ack(B.socket, "message:send", back);
    await waitFor(A.socket, "message:received", (x) => x.messageId === back.messageId);
  } finally {
    closeAll(A, B);
  }
});

test("a device that left node 1 resumes on node 2 with what it missed", async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await on(N3, a);
  const B = await on(N1, b);
  let again;
  try {
    const gone = disconnected(B.socket);
    B.socket.close();
    await gone;
    await sleep(200);
    const missed = [];
    for (let i = 1; i <= 2; i++) {
      const m = message(c, `missed ${i}`);
      missed.push(m.messageId);
      await ack(A.socket, "message:send", m);
    }
    again = await on(N2, b, B.deviceId);
    assert.equal(again.event, "reconnected");
    assert.equal(again.hello.hasMore, false);
    assert.deepEqual(again.hello.pendingMessages.map((x) => x.messageId), missed);
    assert.deepEqual(again.hello.unreadCounts, { [c]: 2 });
  } finally {
    closeAll(A, B, again);
  }
});

test("a node killed with SIGKILL: its users show offline within the lease", async () => {
  const k = user("doomed"), w = user("watcher");
  await conversation(k, w);
  const W = await on(N1, w);
  const mine = (x) => x.userId === k.id;
  const K = await on(N3, k);
  try {
    assert.equal((await waitFor(W.socket, "presence:changed", mine)).status, "online");
    const from = W.socket.log.length;
    const killedAt = Date.now();
    process.kill(Number(process.env.CHAT_KILL_PID), "SIGKILL");
    K.socket.close(); // its client would reconnect elsewhere; here it just goes
    // The lease, plus a third of it (the sweep's period), plus slack for a loaded CI machine.
    const limit = LEASE_MS + LEASE_MS / 3 + 3000;
    const off = await waitFor(W.socket, "presence:changed", mine, { from, timeout: limit + 2000 });
    const took = Date.now() - killedAt;
    assert.equal(off.status, "offline");
    assert.ok(took <= limit, `offline after ${took} ms, limit ${limit} ms`);
    const list = await rest("GET", "/conversations/chat-list", { token: w.token, base: N2 });
    assert.equal(list.body.items[0].participants.find((p) => p.userId === k.id).presence, "offline");
  } finally {
    closeAll(W, K);
  }
});
