// Typing (contract 4.3; server started with CHAT_TYPING_TIMEOUT_MS=800).
// Covers: `typing:start` / `typing:stop` acks `{conversationId, isTyping}`; `typing:indicator`
// `{conversationId, userId, isTyping, expiresAt?}` to the other user's devices and the typist's
// other device, never to the socket that typed (start, automatic clear, stop); a repeat start
// within 1 s is not rebroadcast but refreshes the timer; automatic clear `isTyping:false` ~800 ms
// after the last start; `typing:stop` clears at once (no later automatic clear); clear at
// disconnect. (Typing refused with a block: block-mute.test.mjs; non-participant:
// not-participant.test.mjs; typing rate limit: limits.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { ack, waitFor, collect, pair, keys, ISO_MS, sleep } from "./lib.mjs";

const TIMEOUT = 800;
const typingOf = (S, userId, from) => S.socket.log.slice(from).filter(([n, x]) => n === "typing:indicator" && x.userId === userId).map(([, x]) => x);

test("typing:start: ack, typing:indicator with expiresAt to the other devices", async () => {
  const p = await pair();
  try {
    const { b, c, A1, A2, B1, B2 } = p;
    const t0 = Date.now();
    const a = await ack(B1.socket, "typing:start", { conversationId: c });
    assert.deepEqual(a, { conversationId: c, isTyping: true });
    for (const S of [A1, A2, B2]) {
      const ind = await waitFor(S.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === true, { timeout: 2000 });
      assert.deepEqual(keys(ind), ["conversationId", "expiresAt", "isTyping", "userId"]);
      assert.equal(ind.conversationId, c);
      assert.match(ind.expiresAt, ISO_MS);
      const ahead = Date.parse(ind.expiresAt) - t0;
      assert.ok(ahead >= TIMEOUT - 200 && ahead <= TIMEOUT + 1000, `expiresAt ${ahead} ms ahead`);
    }
  } finally {
    p.close();
  }
});

test("typing:indicator never reaches the socket that typed (start, automatic clear, stop)", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    const from = B1.socket.log.length;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 3000 });
    await ack(B1.socket, "typing:start", { conversationId: c });
    await ack(B1.socket, "typing:stop", { conversationId: c });
    await sleep(400);
    assert.deepEqual(typingOf(B1, b.id, from), [], "echoed to the typing socket");
  } finally {
    p.close();
  }
});

test("a repeat typing:start within 1 s is not rebroadcast and refreshes the timer", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    const from = A1.socket.log.length;
    const t0 = Date.now();
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    await sleep(500);
    const again = await ack(B1.socket, "typing:start", { conversationId: c });
    assert.deepEqual(again, { conversationId: c, isTyping: true });
    const cleared = await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 3000, from });
    const elapsed = Date.now() - t0;
    assert.equal(cleared.conversationId, c);
    assert.ok(elapsed >= 500 + TIMEOUT - 150, `cleared ${elapsed} ms after the first start: the repeat did not refresh the timer`);
    const starts = typingOf(A1, b.id, from).filter((x) => x.isTyping);
    assert.equal(starts.length, 1, "the repeat was rebroadcast");
  } finally {
    p.close();
  }
});

test("typing clears by itself ~800 ms after the last start, on every other device", async () => {
  const p = await pair();
  try {
    const { b, c, A1, A2, B2, B1 } = p;
    const t0 = Date.now();
    await ack(B1.socket, "typing:start", { conversationId: c });
    for (const S of [A1, A2, B2]) {
      const x = await waitFor(S.socket, "typing:indicator", (y) => y.userId === b.id && y.isTyping === false, { timeout: 3000 });
      assert.equal(x.conversationId, c);
      assert.equal(x.isTyping, false);
    }
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= TIMEOUT - 150 && elapsed <= TIMEOUT + 1200, `cleared after ${elapsed} ms`);
  } finally {
    p.close();
  }
});

test("typing:stop: ack, isTyping:false to the others at once, and no automatic clear afterwards", async () => {
  const p = await pair();
  try {
    const { b, c, A1, A2, B1 } = p;
    const from = A1.socket.log.length;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    const t0 = Date.now();
    const s = await ack(B1.socket, "typing:stop", { conversationId: c });
    assert.deepEqual(s, { conversationId: c, isTyping: false });
    for (const S of [A1, A2]) await waitFor(S.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 2000, from: S === A1 ? from : 0 });
    assert.ok(Date.now() - t0 < TIMEOUT - 200, "the stop was immediate");
    await sleep(TIMEOUT + 300);
    const clears = typingOf(A1, b.id, from).filter((x) => !x.isTyping);
    assert.equal(clears.length, 1, "no second (automatic) clear after a stop");
  } finally {
    p.close();
  }
});

test("typing clears at disconnect", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1 } = p;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    const t0 = Date.now();
    B1.socket.close();
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 2000 });
    assert.ok(Date.now() - t0 < TIMEOUT - 250, `cleared ${Date.now() - t0} ms after the disconnect: not by the disconnect`);
  } finally {
    p.close();
  }
});

// Typing is per user, not per device (4.3): the latest start or stop from any device decides.
test("two devices of one user: the first device's timer does not clear while the second types, and the second's stop clears", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1, B2 } = p;
    const from = A1.socket.log.length;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    // B2 keeps typing past B1's timeout (800 ms after B1's start), refreshing every 250 ms.
    const t0 = Date.now();
    while (Date.now() - t0 < TIMEOUT + 700) {
      await sleep(250);
      const r = await ack(B2.socket, "typing:start", { conversationId: c });
      assert.deepEqual(r, { conversationId: c, isTyping: true });
    }
    const clearsWhileTyping = typingOf(A1, b.id, from).filter((x) => !x.isTyping);
    assert.deepEqual(clearsWhileTyping, [], "the indicator cleared while the user's other device kept typing");
    const stopAt = Date.now();
    const s = await ack(B2.socket, "typing:stop", { conversationId: c });
    assert.deepEqual(s, { conversationId: c, isTyping: false });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 2000, from });
    assert.ok(Date.now() - stopAt < TIMEOUT - 200, "cleared by the stop, not by a timer");
  } finally {
    p.close();
  }
});

test("typing:stop from another device of the user clears the indicator at once", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1, B2 } = p;
    const from = A1.socket.log.length;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    const t0 = Date.now();
    await ack(B2.socket, "typing:stop", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 2000, from });
    assert.ok(Date.now() - t0 < TIMEOUT - 200, `cleared ${Date.now() - t0} ms after the other device's stop: not by the stop`);
    await sleep(TIMEOUT + 200);
    const clears = typingOf(A1, b.id, from).filter((x) => !x.isTyping);
    assert.equal(clears.length, 1, "exactly one clear");
  } finally {
    p.close();
  }
});

test("the indicator stays while another typing device of the user is connected, and clears when the last one leaves", async () => {
  const p = await pair();
  try {
    const { b, c, A1, B1, B2 } = p;
    const from = A1.socket.log.length;
    await ack(B1.socket, "typing:start", { conversationId: c });
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping, { timeout: 2000 });
    await ack(B2.socket, "typing:start", { conversationId: c });
    B1.socket.close();
    await sleep(300);
    assert.deepEqual(typingOf(A1, b.id, from).filter((x) => !x.isTyping), [], "cleared while B2 still types");
    // B2 types on (its timer now ends 800 ms from here), then leaves.
    await ack(B2.socket, "typing:start", { conversationId: c });
    const t0 = Date.now();
    B2.socket.close();
    await waitFor(A1.socket, "typing:indicator", (x) => x.userId === b.id && x.isTyping === false, { timeout: 2000, from });
    assert.ok(Date.now() - t0 < TIMEOUT - 250, `cleared ${Date.now() - t0} ms after the last device left: not by the disconnect`);
  } finally {
    p.close();
  }
});
