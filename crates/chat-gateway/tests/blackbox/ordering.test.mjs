// Ordering of message:send (contract 4.1 "Ordering", and the serverSequence convention).
// Covers: 10 sends fired without awaiting from one socket are committed (serverSequence) and
// delivered (`message:received` order at the peer) in send order; with `clientSequence`, sends
// arriving 3, 2, 1 (a fresh device) or 4, 3, 2 (after 1) are committed in clientSequence order; an early one whose predecessor never
// comes is committed anyway within ~5 s; clientSequence spaces are per device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ack, waitFor, message, pair, history } from "./lib.mjs";

test("10 sends fired without awaiting from one socket: serverSequence in send order", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    const msgs = Array.from({ length: 10 }, (_, i) => message(c, `m${i}`));
    const acks = await Promise.all(msgs.map((m) => ack(A1.socket, "message:send", m)));
    for (const x of acks) assert.ok(!x.error, JSON.stringify(x));
    assert.deepEqual(acks.map((x) => x.messageId), msgs.map((m) => m.messageId));
    assert.deepEqual(acks.map((x) => x.serverSequence), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await waitFor(B1.socket, "message:received", (x) => x.messageId === msgs[9].messageId);
    const received = B1.socket.log.filter(([n, x]) => n === "message:received" && x.conversationId === c).map(([, x]) => x.content);
    assert.deepEqual(received, msgs.map((m) => m.content), "delivered in commit order");
    const h = await history(b, c);
    assert.deepEqual(h.body.items.map((x) => x.content), msgs.map((m) => m.content));
    assert.deepEqual(h.body.items.map((x) => x.serverSequence), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    p.close();
  }
});

test("clientSequence 3, 2, 1 sent quickly: committed in clientSequence order", async () => {
  const p = await pair();
  try {
    const { b, c, A1 } = p;
    const m3 = message(c, "three", { clientSequence: 3 });
    const m2 = message(c, "two", { clientSequence: 2 });
    const m1 = message(c, "one", { clientSequence: 1 });
    const t0 = Date.now();
    const [a3, a2, a1] = await Promise.all([m3, m2, m1].map((m) => ack(A1.socket, "message:send", m, 8000)));
    assert.ok(Date.now() - t0 < 4000, "no timeout was needed: the gap was filled");
    assert.equal(a1.serverSequence, 1);
    assert.equal(a2.serverSequence, 2);
    assert.equal(a3.serverSequence, 3);
    const h = await history(b, c);
    assert.deepEqual(h.body.items.map((x) => x.content), ["one", "two", "three"]);
  } finally {
    p.close();
  }
});

test("after clientSequence 1 is committed, 4, 3, 2 sent quickly are committed in clientSequence order", async () => {
  const p = await pair();
  try {
    const { b, c, A1 } = p;
    assert.equal((await ack(A1.socket, "message:send", message(c, "cs1", { clientSequence: 1 }))).serverSequence, 1);
    const acks = await Promise.all([4, 3, 2].map((n) => ack(A1.socket, "message:send", message(c, `cs${n}`, { clientSequence: n }), 8000)));
    assert.deepEqual(acks.map((x) => x.serverSequence), [4, 3, 2]);
    const h = await history(b, c);
    assert.deepEqual(h.body.items.map((x) => x.content), ["cs1", "cs2", "cs3", "cs4"]);
  } finally {
    p.close();
  }
});

test("an early clientSequence whose predecessor never comes is committed anyway (at most ~5 s)", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    assert.equal((await ack(A1.socket, "message:send", message(c, "cs1", { clientSequence: 1 }))).serverSequence, 1);
    const t0 = Date.now();
    const late = await ack(A1.socket, "message:send", message(c, "cs3", { clientSequence: 3 }), 9000);
    const waited = Date.now() - t0;
    assert.ok(!late.error, JSON.stringify(late));
    assert.equal(late.serverSequence, 2);
    assert.ok(waited < 7000, `waited ${waited} ms`);
    await waitFor(B1.socket, "message:received", (x) => x.content === "cs3");
    const h = await history(b, c);
    assert.deepEqual(h.body.items.map((x) => x.content), ["cs1", "cs3"]);
  } finally {
    p.close();
  }
});

test("clientSequence is per device: two devices of one sender may both use 1", async () => {
  const p = await pair();
  try {
    const { c, A1, A2 } = p;
    const x = await ack(A1.socket, "message:send", message(c, "dev1", { clientSequence: 1 }));
    const y = await ack(A2.socket, "message:send", message(c, "dev2", { clientSequence: 1 }));
    assert.ok(!x.error && !y.error, JSON.stringify([x, y]));
    assert.deepEqual([x.serverSequence, y.serverSequence], [1, 2]);
  } finally {
    p.close();
  }
});
