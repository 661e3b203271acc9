// Block and mute (contract 3 rooms, 4.1 blocked sends, 4.3 blocked typing, 4.4, 4.5, 6 REST
// block/unblock/mute/unmute, /users/me/blocks, /users/me/mutes, ChatListItem flags).
// Covers: `block:user` ack `{success, conversationId, blockedUserId, blockedAt}`; `user:blocked` to
// every device of the blocker and not to the blocked user; sends and typing refused both ways
// (`blocked` with `reason` `user_blocked` / `you_blocked`, in the ack and the `error:blocked`
// event, `message:failed`, nothing saved); the blocked user's sockets (and a device connecting
// during the block) leave the room: no read receipts, no presence; `unblock:user` →
// `user:unblocked`, the blocked user's sockets rejoin and receive messages and typing again;
// block/unblock idempotent; chat-list `blockedByMe`/`blockedMe`; the REST block/unblock routes
// with the same acks and socket emissions; `mute:conversation` / `unmute:conversation` (socket
// and REST) → `conversation:muted` / `conversation:unmuted` to every device of the user only,
// messages still delivered with `muted: true` in `unread_count:updated`, chat-list `muted`,
// `/users/me/mutes`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ack, waitFor, collect, message, pair, history, rest, keys, ISO_MS, connect, closeAll, uuid, sleep,
  expectFailure,
} from "./lib.mjs";

const BLOCK_ACK_KEYS = ["blockedAt", "blockedUserId", "conversationId", "success"];

function assertBlockedFailure(f, reason, conversationId) {
  assert.equal(f.ack.error.reason, reason, `ack reason: ${JSON.stringify(f.ack)}`);
  assert.equal(f.error.reason, reason, `event reason: ${JSON.stringify(f.error)}`);
  assert.equal(f.error.conversationId, conversationId);
}

test("block: ack, user:blocked to the blocker's devices only, sends and typing refused both ways with reasons", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    const before = message(c, "before");
    await ack(A1.socket, "message:send", before);
    for (const S of [B1, B2]) await waitFor(S.socket, "message:received", (x) => x.messageId === before.messageId);
    const froms = p.all.map((s) => s.socket.log.length);
    const r = await ack(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id });
    assert.deepEqual(keys(r), BLOCK_ACK_KEYS);
    assert.equal(r.success, true);
    assert.equal(r.conversationId, c);
    assert.equal(r.blockedUserId, a.id);
    assert.match(r.blockedAt, ISO_MS);
    for (const S of [B1, B2]) {
      const e = await waitFor(S.socket, "user:blocked", () => true, { timeout: 2000 });
      assert.deepEqual(e, { conversationId: c, blockedUserId: a.id, blockedAt: r.blockedAt });
    }
    await sleep(300);
    for (const [S, i] of [[A1, 0], [A2, 1]]) assert.equal(S.socket.log.slice(froms[i]).filter(([n]) => n === "user:blocked").length, 0);

    const bFrom = [B1, B2].map((S) => S.socket.log.length);
    assertBlockedFailure(await expectFailure(A1.socket, "message:send", message(c, "blocked?"), "blocked", assert), "user_blocked", c);
    assertBlockedFailure(await expectFailure(A2.socket, "message:send", message(c, "blocked?"), "blocked", assert), "user_blocked", c);
    assertBlockedFailure(await expectFailure(B1.socket, "message:send", message(c, "blocker"), "blocked", assert), "you_blocked", c);
    assertBlockedFailure(await expectFailure(A1.socket, "typing:start", { conversationId: c }, "blocked", assert), "user_blocked", c);
    assertBlockedFailure(await expectFailure(B2.socket, "typing:start", { conversationId: c }, "blocked", assert), "you_blocked", c);
    await sleep(300);
    [B1, B2].forEach((S, j) => {
      const got = S.socket.log.slice(bFrom[j]).map(([n]) => n);
      assert.ok(!got.includes("message:received") && !got.includes("typing:indicator"), `b got ${got}`);
    });
    assert.deepEqual((await history(b, c)).body.items.map((x) => x.content), ["before"]);

    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: b.token })).body, [{ conversationId: c, blockedUserId: a.id, blockedAt: r.blockedAt }]);
    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: a.token })).body, []);
    const lb = (await rest("GET", "/conversations/chat-list", { token: b.token })).body.items[0];
    assert.equal(lb.blockedByMe, true);
    assert.equal(lb.blockedMe, false);
    const la = (await rest("GET", "/conversations/chat-list", { token: a.token })).body.items[0];
    assert.equal(la.blockedByMe, false);
    assert.equal(la.blockedMe, true);
  } finally {
    p.close();
  }
});

test("while blocked the blocked user's sockets (new ones included) are out of the room; unblock rejoins them", async () => {
  const p = await pair();
  let A3;
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    for (let i = 1; i <= 2; i++) await ack(A1.socket, "message:send", message(c, `m${i}`));
    await ack(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id });
    const aFrom = [A1, A2].map((S) => S.socket.log.length);
    // read receipt and presence of the blocker do not reach the blocked user
    await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 1 });
    await ack(B1.socket, "presence:update", { status: "away" });
    await ack(B2.socket, "presence:update", { status: "away" });
    A3 = await connect(a.token, { deviceId: uuid() });
    await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 2 });
    await ack(B1.socket, "presence:update", { status: "online" });
    await sleep(400);
    for (const [S, from] of [[A1, aFrom[0]], [A2, aFrom[1]], [A3, 0]]) {
      const got = S.socket.log.slice(from).filter(([n, x]) => n === "read_receipt:received" || (n === "presence:changed" && x.userId === b.id));
      assert.deepEqual(got, [], "the blocked user still hears the conversation");
    }

    // unblock
    const bFrom = [B1, B2].map((S) => S.socket.log.length);
    const u = await ack(B2.socket, "unblock:user", { conversationId: c, blockedUserId: a.id });
    assert.equal(u.success, true);
    assert.equal(u.conversationId, c);
    assert.equal(u.blockedUserId, a.id);
    for (const k of Object.keys(u)) assert.ok(BLOCK_ACK_KEYS.includes(k), `unexpected field ${k}`);
    for (const [S, i] of [[B1, 0], [B2, 1]]) {
      const e = await waitFor(S.socket, "user:unblocked", () => true, { timeout: 2000, from: bFrom[i] });
      assert.equal(e.conversationId, c);
      assert.equal(e.blockedUserId, a.id);
    }
    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: b.token })).body, []);
    // both can send again; the blocked user's sockets (including the one that connected during the block) hear again
    const fromA = [A1, A2, A3].map((S) => S.socket.log.length);
    const m = message(c, "welcome back");
    await ack(B1.socket, "message:send", m);
    for (const [S, i] of [[A1, 0], [A2, 1], [A3, 2]]) await waitFor(S.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: 2000, from: fromA[i] });
    await ack(B1.socket, "typing:start", { conversationId: c });
    for (const S of [A1, A2, A3]) await waitFor(S.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    const m2 = message(c, "thanks");
    const d = await ack(A1.socket, "message:send", m2);
    assert.equal(d.serverSequence, 4);
    for (const S of [B1, B2]) await waitFor(S.socket, "message:received", (x) => x.messageId === m2.messageId, { timeout: 2000 });
  } finally {
    closeAll(A3);
    p.close();
  }
});

test("block and unblock are idempotent", async () => {
  const p = await pair();
  try {
    const { a, b, c, B1 } = p;
    const r1 = await ack(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id });
    const r2 = await ack(B1.socket, "block:user", { conversationId: c, blockedUserId: a.id });
    assert.equal(r1.success, true);
    assert.equal(r2.success, true);
    assert.equal((await rest("GET", "/users/me/blocks", { token: b.token })).body.length, 1);
    const u1 = await ack(B1.socket, "unblock:user", { conversationId: c, blockedUserId: a.id });
    const u2 = await ack(B1.socket, "unblock:user", { conversationId: c, blockedUserId: a.id });
    assert.equal(u1.success, true);
    assert.equal(u2.success, true);
    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: b.token })).body, []);
  } finally {
    p.close();
  }
});

test("REST block/unblock: same ack, same socket emissions, same effect", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, B1, B2 } = p;
    const r = await rest("POST", `/conversations/${c}/block`, { token: b.token, body: { blockedUserId: a.id } });
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.body), BLOCK_ACK_KEYS);
    assert.equal(r.body.success, true);
    assert.equal(r.body.blockedUserId, a.id);
    for (const S of [B1, B2]) {
      const e = await waitFor(S.socket, "user:blocked", () => true, { timeout: 2000 });
      assert.deepEqual(e, { conversationId: c, blockedUserId: a.id, blockedAt: r.body.blockedAt });
    }
    assert.deepEqual(await collect(A1.socket, "user:blocked", 300), []);
    assertBlockedFailure(await expectFailure(A1.socket, "message:send", message(c, "x"), "blocked", assert), "user_blocked", c);
    const u = await rest("POST", `/conversations/${c}/unblock`, { token: b.token, body: { blockedUserId: a.id } });
    assert.equal(u.status, 200);
    assert.equal(u.body.success, true);
    for (const S of [B1, B2]) await waitFor(S.socket, "user:unblocked", (x) => x.blockedUserId === a.id, { timeout: 2000 });
    assert.equal((await ack(A1.socket, "message:send", message(c, "ok again"))).serverSequence, 1);
    // bad bodies
    for (const body of [{}, { blockedUserId: "nope" }, { blockedUserId: b.id }]) {
      const bad = await rest("POST", `/conversations/${c}/block`, { token: b.token, body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.code, "validation");
      assert.match(bad.headers.get("content-type"), /^application\/problem\+json/);
    }
  } finally {
    p.close();
  }
});

test("mute: ack, conversation:muted to every device of the user only, messages still delivered with muted:true; unmute", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    const until = new Date(Date.now() + 3600_000).toISOString();
    const froms = p.all.map((s) => s.socket.log.length);
    const r = await ack(B1.socket, "mute:conversation", { conversationId: c, mutedUntil: until });
    assert.deepEqual(keys(r), ["conversationId", "mutedAt", "mutedUntil", "success"]);
    assert.equal(r.success, true);
    assert.equal(r.conversationId, c);
    assert.match(r.mutedAt, ISO_MS);
    assert.equal(r.mutedUntil, until);
    for (const S of [B1, B2]) {
      const e = await waitFor(S.socket, "conversation:muted", () => true, { timeout: 2000 });
      assert.deepEqual(e, { conversationId: c, mutedAt: r.mutedAt, mutedUntil: until });
    }
    await sleep(300);
    for (const [S, i] of [[A1, 0], [A2, 1]]) assert.equal(S.socket.log.slice(froms[i]).filter(([n]) => n === "conversation:muted").length, 0);
    const m = message(c, "still there?");
    await ack(A1.socket, "message:send", m);
    for (const S of [B1, B2]) {
      await waitFor(S.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: 2000 });
      const u = await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c && x.unreadCount === 1, { timeout: 2000 });
      assert.equal(u.muted, true);
    }
    const mutes = (await rest("GET", "/users/me/mutes", { token: b.token })).body;
    assert.deepEqual(mutes, [{ conversationId: c, mutedAt: r.mutedAt, mutedUntil: until }]);
    assert.deepEqual((await rest("GET", "/users/me/mutes", { token: a.token })).body, []);
    assert.equal((await rest("GET", "/conversations/chat-list", { token: b.token })).body.items[0].muted, true);
    assert.equal((await rest("GET", "/conversations/chat-list", { token: a.token })).body.items[0].muted, false);

    const bFrom = [B1, B2].map((S) => S.socket.log.length);
    const un = await ack(B2.socket, "unmute:conversation", { conversationId: c });
    assert.equal(un.success, true);
    assert.equal(un.conversationId, c);
    for (const k of Object.keys(un)) assert.ok(["success", "conversationId", "mutedAt", "mutedUntil"].includes(k), `unexpected field ${k}`);
    for (const [S, i] of [[B1, 0], [B2, 1]]) {
      const e = await waitFor(S.socket, "conversation:unmuted", () => true, { timeout: 2000, from: bFrom[i] });
      assert.equal(e.conversationId, c);
    }
    assert.deepEqual(await collect(A1.socket, "conversation:unmuted", 200), []);
    const m2 = message(c, "unmuted now");
    await ack(A1.socket, "message:send", m2);
    for (const [S, i] of [[B1, 0], [B2, 1]]) {
      const u = await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c && x.unreadCount === 2, { timeout: 2000, from: bFrom[i] });
      assert.equal(u.muted, false);
    }
    assert.deepEqual((await rest("GET", "/users/me/mutes", { token: b.token })).body, []);
  } finally {
    p.close();
  }
});

test("REST mute/unmute (no mutedUntil): same ack and socket emissions", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1, B2 } = p;
    const r = await rest("POST", `/conversations/${c}/mute`, { token: b.token, body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.equal(r.body.conversationId, c);
    assert.match(r.body.mutedAt, ISO_MS);
    assert.ok(r.body.mutedUntil === undefined || r.body.mutedUntil === null);
    for (const S of [B1, B2]) {
      const e = await waitFor(S.socket, "conversation:muted", () => true, { timeout: 2000 });
      assert.equal(e.conversationId, c);
      assert.equal(e.mutedAt, r.body.mutedAt);
    }
    assert.deepEqual(await collect(A1.socket, "conversation:muted", 200), []);
    const listed = (await rest("GET", "/users/me/mutes", { token: b.token })).body;
    assert.deepEqual(listed, [{ conversationId: c, mutedAt: r.body.mutedAt, mutedUntil: null }]);
    const u = await rest("POST", `/conversations/${c}/unmute`, { token: b.token, body: {} });
    assert.equal(u.status, 200);
    assert.equal(u.body.success, true);
    for (const S of [B1, B2]) await waitFor(S.socket, "conversation:unmuted", (x) => x.conversationId === c, { timeout: 2000 });
    assert.deepEqual((await rest("GET", "/users/me/mutes", { token: b.token })).body, []);
    const bad = await rest("POST", `/conversations/${c}/mute`, { token: b.token, body: { mutedUntil: "tomorrow" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "validation");
  } finally {
    p.close();
  }
});
