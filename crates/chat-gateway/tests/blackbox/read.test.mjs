// Read receipts and unread counts (contract 4.2, 5 unreadCounts, 6 POST read / readBy).
// Covers: `message:read` with `lastReadSequence`, `lastReadAt` (newest message at or before it),
// `messageIds` (newest of them); the `ReadAck` shape; `unread_count:updated` (exact fields) to every
// device of the reader and not to the other user; `read_receipt:received` (exact fields) to the
// conversation room; the marker only moves forward (an older value is acknowledged and changes
// nothing); unread count counts only others' messages; `readBy` in REST history (sender
// excepted); `connected.unreadCounts`; `POST /conversations/{id}/read` with the same ack and the
// same socket emissions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ack, waitFor, collect, message, pair, history, rest, keys, ISO_MS, connect, closeAll, uuid, sleep } from "./lib.mjs";

const READACK_KEYS = ["conversationId", "lastReadAt", "lastReadSequence", "newUnreadCount", "updatedAt"];
const UNREAD_KEYS = ["conversationId", "lastReadAt", "lastReadSequence", "muted", "unreadCount", "updatedAt"];
const RECEIPT_KEYS = ["conversationId", "lastReadAt", "lastReadSequence", "userId"];

/** a sends n messages (5 ms apart so their timestamps differ); resolves to the acks. */
async function sendN(S, c, n, prefix = "m") {
  const out = [];
  for (let i = 1; i <= n; i++) {
    out.push(await ack(S.socket, "message:send", message(c, `${prefix}${i}`)));
    await sleep(5);
  }
  return out;
}

test("message:read by lastReadSequence: ReadAck, unread_count:updated to all reader devices, read_receipt:received to the room", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    await sendN(A1, c, 3);
    await waitFor(B2.socket, "unread_count:updated", (x) => x.unreadCount === 3);
    await waitFor(B1.socket, "unread_count:updated", (x) => x.unreadCount === 3);
    const froms = p.all.map((s) => s.socket.log.length);
    const r = await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 2 });
    assert.deepEqual(keys(r), READACK_KEYS);
    assert.equal(r.conversationId, c);
    assert.equal(r.lastReadSequence, 2);
    assert.equal(r.newUnreadCount, 1);
    assert.match(r.lastReadAt, ISO_MS);
    assert.match(r.updatedAt, ISO_MS);
    for (const [S, i] of [[B1, 2], [B2, 3]]) {
      const u = await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c, { from: froms[i] });
      assert.equal(u.unreadCount, 1);
      assert.deepEqual(keys(u), UNREAD_KEYS);
      assert.equal(u.lastReadSequence, 2);
      assert.equal(u.lastReadAt, r.lastReadAt);
      assert.equal(u.muted, false);
    }
    for (const S of [A1, A2, B2]) {
      const rr = await waitFor(S.socket, "read_receipt:received", (x) => x.userId === b.id);
      assert.deepEqual(keys(rr), RECEIPT_KEYS);
      assert.deepEqual(rr, { conversationId: c, userId: b.id, lastReadAt: r.lastReadAt, lastReadSequence: 2 });
    }
    await sleep(300);
    for (const [S, i] of [[A1, 0], [A2, 1]]) {
      assert.equal(S.socket.log.slice(froms[i]).filter(([n]) => n === "unread_count:updated").length, 0, "reader's unread count not sent to the other user");
    }
    // readBy: sender excepted; b reached 1 and 2
    const h = await history(a, c);
    assert.deepEqual(h.body.items.map((x) => x.readBy), [[b.id], [b.id], []]);
    const list = await rest("GET", "/conversations/chat-list", { token: b.token });
    assert.equal(list.body.items[0].unreadCount, 1);
  } finally {
    p.close();
  }
});

test("the read marker only moves forward: an older value is acknowledged and changes nothing", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, B1 } = p;
    await sendN(A1, c, 3);
    const first = await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 3 });
    assert.equal(first.newUnreadCount, 0);
    const older = await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 1 });
    assert.ok(!older.error, JSON.stringify(older));
    assert.equal(older.lastReadSequence, 3);
    assert.equal(older.lastReadAt, first.lastReadAt);
    assert.equal(older.newUnreadCount, 0);
    const h = await history(a, c);
    assert.deepEqual(h.body.items.map((x) => x.readBy), [[b.id], [b.id], [b.id]]);
    const list = await rest("GET", "/conversations/chat-list", { token: b.token });
    assert.equal(list.body.items[0].unreadCount, 0);
  } finally {
    p.close();
  }
});

test("lastReadAt maps to the newest message at or before it; messageIds to the newest of them", async () => {
  const p = await pair();
  try {
    const { c, A1, B1 } = p;
    const acks = await sendN(A1, c, 4);
    // between message 2 and 3
    const at = new Date(Date.parse(acks[1].persistedAt) + 1).toISOString();
    assert.ok(Date.parse(at) < Date.parse(acks[2].persistedAt));
    const byAt = await ack(B1.socket, "message:read", { conversationId: c, lastReadAt: at });
    assert.equal(byAt.lastReadSequence, 2);
    assert.equal(byAt.newUnreadCount, 2);
    const byIds = await ack(B1.socket, "message:read", { conversationId: c, messageIds: [acks[0].messageId, acks[2].messageId] });
    assert.equal(byIds.lastReadSequence, 3);
    assert.equal(byIds.newUnreadCount, 1);
  } finally {
    p.close();
  }
});

test("unread count counts only messages others sent; connected.unreadCounts reflects it", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    await sendN(A1, c, 2, "a");
    await sendN(B1, c, 3, "b");
    const list = await rest("GET", "/conversations/chat-list", { token: b.token });
    assert.equal(list.body.items[0].unreadCount, 2);
    const fresh = await connect(b.token, { deviceId: uuid() });
    try {
      assert.deepEqual(fresh.hello.unreadCounts, { [c]: 2 });
    } finally {
      fresh.socket.close();
    }
    // reading up to b's own last message reads everything
    const r = await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 5 });
    assert.equal(r.newUnreadCount, 0);
  } finally {
    p.close();
  }
});

test("POST /conversations/{id}/read: same ReadAck and the same socket emissions", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, A2, B1, B2 } = p;
    await sendN(A1, c, 3);
    await waitFor(B2.socket, "unread_count:updated", (x) => x.unreadCount === 3);
    await waitFor(B1.socket, "unread_count:updated", (x) => x.unreadCount === 3);
    const froms = p.all.map((s) => s.socket.log.length);
    const r = await rest("POST", `/conversations/${c}/read`, { token: b.token, body: { lastReadSequence: 2 } });
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.body), READACK_KEYS);
    assert.equal(r.body.lastReadSequence, 2);
    assert.equal(r.body.newUnreadCount, 1);
    for (const [S, i] of [[B1, 2], [B2, 3]]) {
      const u = await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c, { timeout: 2000, from: froms[i] });
      assert.equal(u.unreadCount, 1);
      assert.equal(u.lastReadSequence, 2);
    }
    for (const S of [A1, A2]) {
      const rr = await waitFor(S.socket, "read_receipt:received", (x) => x.userId === b.id, { timeout: 2000 });
      assert.deepEqual(rr, { conversationId: c, userId: b.id, lastReadAt: r.body.lastReadAt, lastReadSequence: 2 });
    }
    // lastReadAt through REST too
    const acks = (await history(a, c)).body.items;
    const r2 = await rest("POST", `/conversations/${c}/read`, { token: b.token, body: { lastReadAt: acks[2].timestamp } });
    assert.equal(r2.status, 200);
    assert.equal(r2.body.lastReadSequence, 3);
    assert.equal(r2.body.newUnreadCount, 0);
    // bad bodies
    for (const body of [{}, { lastReadSequence: "x" }, { lastReadAt: "yesterday" }]) {
      const bad = await rest("POST", `/conversations/${c}/read`, { token: b.token, body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.code, "validation");
    }
    const badJson = await rest("POST", `/conversations/${c}/read`, { token: b.token, raw: "{not json", headers: { "content-type": "application/json" } });
    assert.equal(badJson.status, 400);
  } finally {
    p.close();
  }
});

// 4.2: every ReadAck and unread_count:updated pairs a marker with the count after that very
// marker, under concurrent reads from several devices too. One round: a reader with four
// devices sends 16 reads at once (4 per device) to a conversation of 10 messages. A count read
// apart from its marker shows in about half the rounds; five rounds run at once.
async function concurrentReadRound() {
  const p = await pair();
  const extra = [];
  try {
    const { a, c, A1, A2, B1 } = p;
    // Bob sends 8, Ada 2 of her own in between (not unread for her); 10 a minute is the limit.
    const sentBy = new Map(); // serverSequence -> sender id
    for (let i = 0; i < 10; i++) {
      const S = i % 5 === 4 ? A1 : B1;
      const d = await ack(S.socket, "message:send", message(c, `m${i}`));
      assert.ok(!d.error, JSON.stringify(d));
      sentBy.set(d.serverSequence, S === A1 ? a.id : "other");
    }
    const last = Math.max(...sentBy.keys());
    const unreadAfter = (marker) => [...sentBy.entries()].filter(([seq, who]) => seq > marker && who !== a.id).length;
    for (let i = 0; i < 2; i++) extra.push(await connect(a.token, { deviceId: uuid() }));
    const readers = [A1, A2, ...extra];
    const from = readers.map((S) => S.socket.log.length);
    // 16 targets spread over the conversation, 4 per device, all sent at once.
    const targets = Array.from({ length: 16 }, (_, i) => Math.max(1, Math.round(((i + 1) * last) / 16)));
    for (let i = targets.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [targets[i], targets[j]] = [targets[j], targets[i]];
    }
    const acks = await Promise.all(targets.map((t, i) => ack(readers[i % 4].socket, "message:read", { conversationId: c, lastReadSequence: t })));
    const wrong = acks
      .filter((r) => r.error || r.newUnreadCount !== unreadAfter(r.lastReadSequence))
      .map((r) => r.error ?? `ReadAck (${r.lastReadSequence}, ${r.newUnreadCount}), want ${unreadAfter(r.lastReadSequence)}`);
    const finalMarker = Math.max(...acks.map((r) => r.lastReadSequence));
    assert.equal(finalMarker, Math.max(...targets));
    // Every device ends with the update of the final marker; none carries a mismatched pair.
    for (const [i, S] of readers.entries()) {
      await waitFor(S.socket, "unread_count:updated", (x) => x.conversationId === c && x.lastReadSequence === finalMarker, { timeout: 3000, from: from[i] });
      const updates = S.socket.log.slice(from[i]).filter(([n, x]) => n === "unread_count:updated" && x.conversationId === c).map(([, x]) => x);
      for (const x of updates.filter((u) => u.unreadCount !== unreadAfter(u.lastReadSequence))) {
        wrong.push(`device ${i}: unread_count:updated (${x.lastReadSequence}, ${x.unreadCount}), want ${unreadAfter(x.lastReadSequence)}`);
      }
    }
    return wrong;
  } finally {
    p.close();
    closeAll(extra);
  }
}

test("16 concurrent reads from four devices: every ReadAck and unread_count:updated pairs its marker with its own count", async () => {
  const rounds = await Promise.all(Array.from({ length: 5 }, () => concurrentReadRound()));
  assert.deepEqual(rounds.flat(), [], "payloads pairing a marker with another read's count");
});
