// Connect and resume (contract 5).
// Covers: the same deviceId reconnecting after a disconnect gets `reconnected`
// `{status:"resumed", userId, deviceId, socketId, pendingMessages, unreadCounts, hasMore}` with
// every message committed while it was away (MessageReceived shape, oldest first, per
// conversation by serverSequence, across several conversations), `hasMore: false`; without
// `lastSequences` maybe repeating the ones it saw live just before, and never missing one that
// crossed its goodbye on the wire; a new deviceId
// gets `connected` (`resumed: false`); `auth.lastSequences` honoured; a device that stayed
// connected is unaffected; more than 500 pending → 500 oldest, `hasMore: true`, the rest in REST
// history. (The resume window, 1800 s, is too long to expire in a test.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  URL, user, uuid, conversation, connect, ack, waitFor, message, pair, history, closeAll, keys, sleep, disconnected,
} from "./lib.mjs";

const RECEIVED_KEYS = ["content", "conversationId", "messageId", "readBy", "senderDeviceId", "senderId", "senderName", "serverSequence", "status", "timestamp"];

/** Closes a connection and waits until the server has seen the disconnect. */
async function leave(S) {
  const gone = disconnected(S.socket);
  S.socket.close();
  await gone;
  await sleep(150);
}

/**
 * Without lastSequences, pendingMessages may repeat messages committed in the seconds before
 * the disconnect (contract 5): the ones `S` saw live. Returns the pending ones it had not seen.
 */
function unseen(S, pending) {
  const seen = new Set(S.socket.log.filter(([n]) => n === "message:received").map(([, x]) => x.messageId));
  return pending.filter((x) => !seen.has(x.messageId));
}

test("the same deviceId reconnecting gets reconnected with every message it missed (repeats only of what it saw)", async () => {
  const p = await pair();
  let again, fresh;
  try {
    const { a, b, c, A1, B1, B2 } = p;
    const before = message(c, "seen live");
    await ack(A1.socket, "message:send", before);
    await waitFor(B1.socket, "message:received", (x) => x.messageId === before.messageId);
    await leave(B1);
    const missed = [];
    for (let i = 1; i <= 3; i++) {
      const m = message(c, `missed ${i}`, { clientSequence: i });
      missed.push({ m, d: await ack(A1.socket, "message:send", m) });
    }
    again = await connect(b.token, { deviceId: B1.deviceId });
    assert.equal(again.event, "reconnected");
    const h = again.hello;
    // the contract's fields (serverTime, as in `connected`, is tolerated)
    assert.deepEqual(keys(h).filter((k) => k !== "serverTime"), ["deviceId", "hasMore", "pendingMessages", "socketId", "status", "unreadCounts", "userId"]);
    assert.equal(h.status, "resumed");
    assert.equal(h.userId, b.id);
    assert.equal(h.deviceId, B1.deviceId);
    assert.equal(h.socketId, again.socket.id);
    assert.equal(h.hasMore, false);
    assert.deepEqual(h.unreadCounts, { [c]: 4 });
    const owed = unseen(B1, h.pendingMessages);
    assert.deepEqual(owed.map((x) => x.messageId), missed.map(({ m }) => m.messageId));
    assert.ok(h.pendingMessages.length - owed.length <= 1, "repeats only of the message seen just before leaving");
    owed.forEach((x, i) => {
      assert.deepEqual(keys(x), [...RECEIVED_KEYS, "clientSequence"].sort());
      assert.equal(x.conversationId, c);
      assert.equal(x.senderId, a.id);
      assert.equal(x.senderName, a.name);
      assert.equal(x.senderDeviceId, A1.deviceId);
      assert.equal(x.content, `missed ${i + 1}`);
      assert.equal(x.serverSequence, missed[i].d.serverSequence);
      assert.equal(x.timestamp, missed[i].d.persistedAt);
      assert.equal(x.clientSequence, i + 1);
      assert.equal(x.status, "delivered");
      assert.deepEqual(x.readBy, []);
    });
    // the resumed socket is live in its rooms again
    const live = message(c, "after resume");
    await ack(A1.socket, "message:send", live);
    await waitFor(again.socket, "message:received", (x) => x.messageId === live.messageId, { timeout: 2000 });

    // a new device is a new session
    fresh = await connect(b.token, { deviceId: uuid() });
    assert.equal(fresh.event, "connected");
    assert.equal(fresh.hello.resumed, false);
    assert.deepEqual(fresh.hello.unreadCounts, { [c]: 5 });
    // the device that stayed connected saw everything live
    for (const { m } of missed) await waitFor(B2.socket, "message:received", (x) => x.messageId === m.messageId);
  } finally {
    closeAll(again, fresh);
    p.close();
  }
});

test("nothing missed: reconnected with nothing pending but repeats of what it saw", async () => {
  const p = await pair();
  let again;
  try {
    const { b, c, A1, B1 } = p;
    await ack(A1.socket, "message:send", message(c, "live"));
    await waitFor(B1.socket, "message:received", (x) => x.content === "live");
    await leave(B1);
    again = await connect(b.token, { deviceId: B1.deviceId });
    assert.equal(again.event, "reconnected");
    assert.deepEqual(unseen(B1, again.hello.pendingMessages), []);
    assert.equal(again.hello.hasMore, false);
  } finally {
    closeAll(again);
    p.close();
  }
});

test("auth.lastSequences says where the client stands", async () => {
  const p = await pair();
  let again;
  try {
    const { b, c, A1, B1 } = p;
    for (let i = 1; i <= 2; i++) await ack(A1.socket, "message:send", message(c, `live ${i}`));
    await waitFor(B1.socket, "message:received", (x) => x.content === "live 2");
    await leave(B1);
    for (let i = 3; i <= 4; i++) await ack(A1.socket, "message:send", message(c, `away ${i}`));
    // the client says it only has seq 1
    again = await connect(b.token, { deviceId: B1.deviceId, lastSequences: { [c]: 1 } });
    assert.equal(again.event, "reconnected");
    assert.deepEqual(again.hello.pendingMessages.map((x) => x.serverSequence), [2, 3, 4]);
    assert.equal(again.hello.hasMore, false);
    closeAll(again);
    await sleep(150);
    // ... or that it has everything
    again = await connect(b.token, { deviceId: B1.deviceId, lastSequences: { [c]: 4 } });
    assert.deepEqual(again.hello.pendingMessages, []);
  } finally {
    closeAll(again);
    p.close();
  }
});

test("pending messages across conversations: each conversation oldest first", async () => {
  const b = user("hub"), a = user("one"), z = user("two");
  const c1 = await conversation(a, b), c2 = await conversation(z, b);
  const dev = uuid();
  const B = await connect(b.token, { deviceId: dev });
  const A = await connect(a.token, { deviceId: uuid() });
  const Z = await connect(z.token, { deviceId: uuid() });
  let again;
  try {
    await leave(B);
    const sent = [];
    for (let i = 1; i <= 3; i++) {
      const m1 = message(c1, `c1-${i}`), m2 = message(c2, `c2-${i}`);
      await ack(A.socket, "message:send", m1);
      await ack(Z.socket, "message:send", m2);
      sent.push(m1.messageId, m2.messageId);
    }
    again = await connect(b.token, { deviceId: dev });
    const pm = again.hello.pendingMessages;
    assert.deepEqual(new Set(pm.map((x) => x.messageId)), new Set(sent));
    assert.equal(pm.length, 6);
    for (const cid of [c1, c2]) {
      assert.deepEqual(pm.filter((x) => x.conversationId === cid).map((x) => x.serverSequence), [1, 2, 3]);
    }
    // grouped by conversation: once a conversation's messages end, it does not come back
    const order = pm.map((x) => x.conversationId).filter((x, i, arr) => i === 0 || arr[i - 1] !== x);
    assert.equal(order.length, 2, `pending interleaves conversations: ${pm.map((x) => x.content)}`);
    assert.deepEqual(again.hello.unreadCounts, { [c1]: 3, [c2]: 3 });
  } finally {
    closeAll(A, Z, again, B);
  }
});

test("more than 500 missed messages: the 500 oldest, hasMore: true, the rest in REST history", async () => {
  const b = user("popular");
  const dev = uuid();
  const peers = Array.from({ length: 51 }, (_, i) => user(`fan${i}`));
  const convs = [];
  for (const f of peers) convs.push(await conversation(f, b));
  const B = await connect(b.token, { deviceId: dev });
  await leave(B);
  const sockets = [];
  let again;
  try {
    for (const f of peers) sockets.push(await connect(f.token, { deviceId: uuid() }));
    // 51 senders × 10 messages (the per-user send limit) = 510
    await Promise.all(sockets.map(async (S, i) => {
      for (let k = 1; k <= 10; k++) {
        const d = await ack(S.socket, "message:send", message(convs[i], `f${i}-${k}`), 20000);
        assert.ok(!d.error, JSON.stringify(d));
      }
    }));
    again = await connect(b.token, { deviceId: dev, timeout: 20000 });
    const h = again.hello;
    assert.equal(again.event, "reconnected");
    assert.equal(h.pendingMessages.length, 500);
    assert.equal(h.hasMore, true);
    assert.equal(new Set(h.pendingMessages.map((x) => x.messageId)).size, 500);
    // per conversation, each prefix is oldest first and gap-free from 1
    const seen = new Map();
    for (const x of h.pendingMessages) {
      const n = (seen.get(x.conversationId) ?? 0) + 1;
      assert.equal(x.serverSequence, n, "oldest first, no gaps");
      seen.set(x.conversationId, n);
    }
    // pending + history cover everything
    let total = 0;
    for (const cid of convs) {
      const items = (await history(b, cid, { afterSequence: seen.get(cid) ?? 0 })).body.items;
      total += items.length;
    }
    assert.equal(total, 10);
    assert.deepEqual(h.unreadCounts, Object.fromEntries(convs.map((cid) => [cid, 10])));
  } finally {
    closeAll(sockets, again);
  }
});

/**
 * A TCP proxy to the server that holds what the client sends for `delayMs` (in order) and
 * passes what the server sends at once: the server sees a goodbye `delayMs` after the client
 * said it, and what it emits meanwhile crosses the goodbye on the wire.
 */
async function delayingProxy(delayMs) {
  const net = await import("node:net");
  const target = new globalThis.URL(URL);
  const open = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    open.add(client).add(upstream);
    client.on("data", (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    client.on("end", () => setTimeout(() => upstream.end(), delayMs));
    upstream.on("data", (chunk) => client.write(chunk));
    upstream.on("end", () => client.end());
    for (const s of [client, upstream]) s.on("error", () => { client.destroy(); upstream.destroy(); });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => { for (const s of open) s.destroy(); server.close(); },
  };
}

test("without lastSequences, messages crossing a goodbye on the wire are in pendingMessages", async () => {
  const b = user("reader");
  const dev = uuid();
  const peers = Array.from({ length: 4 }, (_, i) => user(`talker${i}`));
  const convs = [];
  for (const f of peers) convs.push(await conversation(f, b));
  const senders = [];
  const proxy = await delayingProxy(300);
  let B, again;
  try {
    for (const f of peers) senders.push(await connect(f.token, { deviceId: uuid() }));
    B = await connect(b.token, { deviceId: dev, url: proxy.url, timeout: 10000 });
    // 4 senders × 10 messages (the per-user send limit), one every 40 ms each; the device says
    // goodbye in the middle of the stream.
    const sent = [];
    const sending = Promise.all(senders.map(async (S, i) => {
      for (let k = 0; k < 10; k++) {
        const m = message(convs[i], `t${i}-${k}`);
        const d = await ack(S.socket, "message:send", m);
        assert.ok(!d.error, JSON.stringify(d));
        sent.push(m.messageId);
        await sleep(40);
      }
    }));
    // Say goodbye once a few arrived live, with most of the stream still to come.
    const liveCount = () => B.socket.log.filter(([n]) => n === "message:received").length;
    for (const deadline = Date.now() + 10000; liveCount() < 8 && Date.now() < deadline;) await sleep(5);
    const gone = disconnected(B.socket);
    B.socket.disconnect();
    await gone;
    const live = new Set(B.socket.log.filter(([n]) => n === "message:received").map(([, x]) => x.messageId));
    await sending;
    await sleep(500); // the goodbye reaches the server 300 ms late
    again = await connect(b.token, { deviceId: dev });
    assert.equal(again.event, "reconnected");
    const pending = new Set(again.hello.pendingMessages.map((x) => x.messageId));
    const missing = sent.filter((id) => !live.has(id) && !pending.has(id));
    assert.ok(live.size > 0 && live.size < sent.length, `the goodbye fell inside the stream (${live.size} live of ${sent.length})`);
    assert.deepEqual(missing, [], `${missing.length} of ${sent.length} messages neither live nor in pendingMessages`);
  } finally {
    closeAll(senders, B, again);
    proxy.close();
  }
});
