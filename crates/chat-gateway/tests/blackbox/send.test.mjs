// message:send (contract 4, 4.1, 3).
// Covers: the `MessageDelivered` ack (exact fields, ms-precision `persistedAt`), `message:delivered`
// only to the sending socket, `message:received` (exact fields) to every device of both users
// (sender's other device included), `unread_count:updated` to every device of the other user only,
// gap-free `serverSequence` across senders, sender id from the token (never the payload), unknown
// fields ignored, 4000-scalar content (emoji) accepted, `\n`/`\t` accepted and kept, idempotent
// resend (same ack with `duplicate: true`, `message:received` again with the stored content and
// nothing counted again, from the same or another device of the sender), 10 concurrent resends
// from one socket and from two sockets (one stored, each broadcast, one unread),
// `conflict` (same messageId from another sender / for another conversation, a `clientSequence`
// reused with another id) with `error:conflict` and `message:failed`, a conversation created while
// both users are online joins their sockets at once, the long-polling transport.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  user, uuid, conversation, connect, ack, waitFor, collect, message, pair, history, closeAll, keys,
  ISO_MS, expectFailure, sleep,
} from "./lib.mjs";

const DELIVERED_KEYS = ["conversationId", "duplicate", "messageId", "persistedAt", "serverSequence", "serverTimestamp", "status"];
const RECEIVED_KEYS = ["content", "conversationId", "messageId", "readBy", "senderDeviceId", "senderId", "senderName", "serverSequence", "status", "timestamp"];

test("a send: ack, message:received and unread counts on the right devices", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    const m = message(c, "hello bob", { clientSequence: 1, senderId: b.id, bogusField: { x: 1 } });
    const froms = p.all.map((s) => s.socket.log.length);
    const d = await ack(A1.socket, "message:send", m);
    assert.deepEqual(keys(d), DELIVERED_KEYS);
    assert.equal(d.messageId, m.messageId);
    assert.equal(d.conversationId, c);
    assert.equal(d.status, "delivered");
    assert.equal(d.serverSequence, 1);
    assert.equal(d.duplicate, false);
    assert.equal(typeof d.serverTimestamp, "number");
    assert.ok(Math.abs(d.serverTimestamp - Date.now()) < 5000);
    assert.match(d.persistedAt, ISO_MS);
    assert.ok(Math.abs(Date.parse(d.persistedAt) - d.serverTimestamp) < 1000);

    // message:received on every other device (sender's other device included).
    for (const S of [A2, B1, B2]) {
      const r = await waitFor(S.socket, "message:received", (x) => x.messageId === m.messageId);
      assert.deepEqual(keys(r), [...RECEIVED_KEYS, "clientSequence"].sort());
      assert.equal(r.conversationId, c);
      assert.equal(r.senderId, a.id, "sender id comes from the token");
      assert.equal(r.senderName, a.name);
      assert.equal(r.senderDeviceId, A1.deviceId);
      assert.equal(r.content, "hello bob");
      assert.equal(r.timestamp, d.persistedAt);
      assert.equal(r.serverSequence, 1);
      assert.equal(r.clientSequence, 1);
      assert.equal(r.status, "delivered");
      assert.deepEqual(r.readBy, []);
    }
    // unread_count:updated to every device of b.
    for (const S of [B1, B2]) {
      const u = await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c && x.unreadCount === 1);
      assert.deepEqual(keys(u), ["conversationId", "lastReadAt", "lastReadSequence", "muted", "unreadCount", "updatedAt"]);
      assert.equal(u.muted, false);
      assert.match(u.updatedAt, ISO_MS);
    }
    await sleep(300);
    // ... and not where it does not belong.
    const since = (S, i, ev) => S.socket.log.slice(froms[i]).filter(([n]) => n === ev);
    for (const [S, i] of [[A1, 0], [A2, 1]]) assert.equal(since(S, i, "unread_count:updated").length, 0, "no unread count to the sender");
    for (const [S, i] of [[A2, 1], [B1, 2], [B2, 3]]) assert.equal(since(S, i, "message:received").length, 1, "received exactly once");

    // REST history has it, sender from the token.
    const h = await history(b, c);
    assert.equal(h.body.items.length, 1);
    assert.equal(h.body.items[0].senderId, a.id);
    assert.equal(h.body.items[0].content, "hello bob");
  } finally {
    p.close();
  }
});

test("message:delivered: the ack's payload, emitted to the sending socket only", async () => {
  const p = await pair();
  try {
    const { c, A1, A2, B1, B2 } = p;
    const m = message(c, "delivered?");
    const froms = p.all.map((s) => s.socket.log.length);
    const d = await ack(A1.socket, "message:send", m);
    const delivered = await waitFor(A1.socket, "message:delivered", (x) => x.messageId === m.messageId, { from: froms[0], timeout: 2000 });
    assert.deepEqual(delivered, d);
    await sleep(300);
    [A2, B1, B2].forEach((S, j) => {
      assert.equal(S.socket.log.slice(froms[j + 1]).filter(([n]) => n === "message:delivered").length, 0, "delivered only to the sending socket");
    });
  } finally {
    p.close();
  }
});

test("without clientSequence, message:received has no clientSequence; sequences are gap-free across senders", async () => {
  const p = await pair();
  try {
    const { c, A1, B1, B2 } = p;
    const seqs = [];
    for (let i = 0; i < 3; i++) {
      seqs.push((await ack(A1.socket, "message:send", message(c, `a${i}`))).serverSequence);
      seqs.push((await ack(B1.socket, "message:send", message(c, `b${i}`))).serverSequence);
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
    const r = await waitFor(B2.socket, "message:received", (x) => x.content === "a0");
    assert.equal("clientSequence" in r, false);
    // b's own devices get b's messages too, and b's other device counts none as unread.
    await waitFor(B2.socket, "message:received", (x) => x.content === "b2");
    const last = B2.socket.log.filter(([n, x]) => n === "unread_count:updated" && x.conversationId === c).pop()[1];
    assert.equal(last.unreadCount, 3);
  } finally {
    p.close();
  }
});

test("content: 4000 scalar values (emoji) accepted, newlines and tabs kept", async () => {
  const p = await pair();
  try {
    const { b, c, A1 } = p;
    const long = "😀".repeat(4000);
    const d1 = await ack(A1.socket, "message:send", message(c, long));
    assert.equal(d1.serverSequence, 1);
    const d2 = await ack(A1.socket, "message:send", message(c, "line1\nline2\tcol"));
    assert.equal(d2.serverSequence, 2);
    const h = await history(b, c);
    assert.equal(h.body.items[0].content, long);
    assert.equal(h.body.items[1].content, "line1\nline2\tcol");
  } finally {
    p.close();
  }
});

test("resend of the same messageId: the original ack with duplicate:true, the stored message broadcast again, nothing counted again", async () => {
  const p = await pair();
  try {
    const { b, c, A1, A2, B1, B2 } = p;
    const m = message(c, "once");
    const first = await ack(A1.socket, "message:send", m);
    // let every effect of the original arrive first
    for (const S of [A2, B1, B2]) await waitFor(S.socket, "message:received", (x) => x.messageId === m.messageId);
    for (const S of [B1, B2]) await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c);
    const watch = [A2, B1, B2].map((S) => collect(S.socket, "message:received", 500));
    const watchUnread = [B1, B2].map((S) => collect(S.socket, "unread_count:updated", 500));
    const again = await ack(A1.socket, "message:send", m);
    assert.deepEqual(again, { ...first, duplicate: true });
    // from the sender's other device too
    const other = await ack(A2.socket, "message:send", { ...m, content: "changed content" });
    assert.deepEqual(other, { ...first, duplicate: true });
    // Re-broadcast (contract 4.1: a message whose first broadcast died with its node still
    // arrives live), the stored message each time, never the resend's content.
    const stored = { ...(await waitFor(B1.socket, "message:received", (x) => x.messageId === m.messageId)) };
    for (const w of await Promise.all(watch)) {
      assert.equal(w.length, 2, "one broadcast per resend");
      for (const x of w) assert.deepEqual(x, stored);
    }
    for (const w of await Promise.all(watchUnread)) assert.deepEqual(w, [], "no unread recount");
    const h = await history(b, c);
    assert.equal(h.body.items.length, 1);
    assert.equal(h.body.items[0].content, "once");
    // the next new message takes the next sequence: nothing was consumed by the resends
    assert.equal((await ack(A1.socket, "message:send", message(c, "next"))).serverSequence, 2);
  } finally {
    p.close();
  }
});

test("10 concurrent sends of one messageId from one socket: one stored, one original, nine duplicates", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    const m = message(c, "racy");
    const from = B1.socket.log.length;
    const acks = await Promise.all(Array.from({ length: 10 }, () => ack(A1.socket, "message:send", m)));
    for (const x of acks) assert.ok(!x.error, JSON.stringify(x));
    assert.equal(acks.filter((x) => x.duplicate === false).length, 1);
    assert.equal(acks.filter((x) => x.duplicate === true).length, 9);
    for (const x of acks) {
      assert.equal(x.serverSequence, 1);
      assert.equal(x.persistedAt, acks[0].persistedAt);
      assert.equal(x.messageId, m.messageId);
    }
    await sleep(400);
    const received = B1.socket.log.slice(from).filter(([n]) => n === "message:received");
    assert.equal(received.length, 10, "every send is broadcast (receivers drop repeats by messageId)");
    assert.equal(new Set(received.map(([, x]) => x.messageId)).size, 1);
    assert.equal(B1.socket.log.slice(from).filter(([n]) => n === "unread_count:updated").length, 1, "counted once");
    const h = await history(b, c);
    assert.equal(h.body.items.length, 1);
  } finally {
    p.close();
  }
});

test("10 concurrent sends of one messageId from two devices of the sender: one stored", async () => {
  const p = await pair();
  try {
    const { b, c, A1, A2, B2 } = p;
    const m = message(c, "racy2");
    const from = B2.socket.log.length;
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => ack(i % 2 ? A2.socket : A1.socket, "message:send", m)));
    for (const x of acks) assert.ok(!x.error, JSON.stringify(x));
    assert.equal(acks.filter((x) => x.duplicate === false).length, 1);
    assert.equal(new Set(acks.map((x) => `${x.serverSequence}|${x.persistedAt}`)).size, 1);
    await sleep(400);
    assert.equal(B2.socket.log.slice(from).filter(([n]) => n === "message:received").length, 10);
    assert.equal(B2.socket.log.slice(from).filter(([n]) => n === "unread_count:updated").length, 1, "counted once");
    const h = await history(b, c);
    assert.equal(h.body.items.length, 1);
    assert.equal(h.body.items[0].messageId, m.messageId);
  } finally {
    p.close();
  }
});

test("conflict: same messageId from another sender, or for another conversation", async () => {
  const p = await pair();
  const z = user("zed");
  try {
    const { a, b, c, A1, B1 } = p;
    const c2 = await conversation(a, z);
    const m = message(c, "original");
    await ack(A1.socket, "message:send", m);
    const bySomeoneElse = await expectFailure(B1.socket, "message:send", { ...m, content: "hijack" }, "conflict", assert);
    assert.equal(bySomeoneElse.error.messageId, m.messageId);
    assert.equal(bySomeoneElse.error.conversationId, c);
    assert.equal(bySomeoneElse.failed.messageId, m.messageId);
    await expectFailure(A1.socket, "message:send", { ...m, conversationId: c2 }, "conflict", assert);
    assert.equal((await history(a, c)).body.items.length, 1);
    assert.equal((await history(b, c)).body.items[0].content, "original");
    assert.equal((await history(a, c2)).body.items.length, 0);
  } finally {
    p.close();
  }
});

test("conflict: a clientSequence already committed with another messageId", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    const first = message(c, "cs1", { clientSequence: 1 });
    assert.equal((await ack(A1.socket, "message:send", first)).serverSequence, 1);
    await waitFor(B1.socket, "message:received", (x) => x.messageId === first.messageId);
    const from = B1.socket.log.length;
    await expectFailure(A1.socket, "message:send", message(c, "cs1 again", { clientSequence: 1 }), "conflict", assert);
    await sleep(300);
    assert.equal(B1.socket.log.slice(from).filter(([n]) => n === "message:received").length, 0);
    const h = await history(b, c);
    assert.deepEqual(h.body.items.map((x) => x.content), ["cs1"]);
    // the same id with the same clientSequence is a duplicate, not a conflict
    const dup = await ack(A1.socket, "message:send", first);
    assert.equal(dup.duplicate, true);
  } finally {
    p.close();
  }
});

test("a conversation created while both users are online joins their sockets at once", async () => {
  const a = user("early"), b = user("bird");
  const A = await connect(a.token, { deviceId: uuid() });
  const B = await connect(b.token, { deviceId: uuid() });
  try {
    const c = await conversation(a, b);
    const m = message(c, "fresh room");
    await ack(A.socket, "message:send", m);
    const r = await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: 2000 });
    assert.equal(r.content, "fresh room");
    await waitFor(B.socket, "unread_count:updated", (x) => x.conversationId === c && x.unreadCount === 1, { timeout: 2000 });
  } finally {
    closeAll(A, B);
  }
});

test("a client on HTTP long-polling (no WebSocket) sends and receives too", async () => {
  const a = user("poller"), b = user("socketeer");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: uuid(), transports: ["polling"] });
  const B = await connect(b.token, { deviceId: uuid() });
  try {
    assert.equal(A.socket.io.engine.transport.name, "polling");
    const m = message(c, "over polling");
    const d = await ack(A.socket, "message:send", m);
    assert.equal(d.serverSequence, 1);
    await waitFor(B.socket, "message:received", (x) => x.messageId === m.messageId, { timeout: 2000 });
    const back = message(c, "to the poller");
    await ack(B.socket, "message:send", back);
    const r = await waitFor(A.socket, "message:received", (x) => x.messageId === back.messageId, { timeout: 3000 });
    assert.equal(r.content, "to the poller");
  } finally {
    closeAll(A, B);
  }
});
