// Presence (contract 4.4, `presence` in ChatListItem).
// Covers: `presence:changed` `{userId, status, lastSeenAt}` to the users sharing a conversation
// only when the aggregate over all devices changes (a second device connecting says nothing; `away`
// only when every device said away; back `online` when one is; `offline` when the last device
// leaves); `presence:update` ack `{userId, status}`; chat-list `presence`; a user sharing no
// conversation sees nothing. (Invalid status: validation.test.mjs; none with a block:
// block-mute.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, conversation, connect, ack, waitFor, collect, rest, closeAll, keys, ISO_MS } from "./lib.mjs";

const presenceOf = async (viewer, userId) => {
  const r = await rest("GET", "/conversations/chat-list", { token: viewer.token });
  return r.body.items[0].participants.find((p) => p.userId === userId).presence;
};

test("presence aggregates over devices: changes only when the aggregate changes", async () => {
  const a = user("pres"), b = user("watcher"), s = user("stranger");
  await conversation(a, b);
  const B = await connect(b.token, { deviceId: uuid() });
  const S = await connect(s.token, { deviceId: uuid() });
  let A1, A2;
  const mine = (x) => x.userId === a.id;
  try {
    assert.equal(await presenceOf(b, a.id), "offline");
    A1 = await connect(a.token, { deviceId: uuid() });
    const online = await waitFor(B.socket, "presence:changed", mine, { timeout: 2000 });
    assert.deepEqual(keys(online), ["lastSeenAt", "status", "userId"]);
    assert.equal(online.status, "online");
    assert.match(online.lastSeenAt, ISO_MS);
    assert.equal(await presenceOf(b, a.id), "online");

    let from = B.socket.log.length;
    A2 = await connect(a.token, { deviceId: uuid() });
    assert.deepEqual(await collect(B.socket, "presence:changed", 400, mine), [], "a second device says nothing");

    const away1 = await ack(A1.socket, "presence:update", { status: "away" });
    assert.deepEqual(away1, { userId: a.id, status: "away" });
    assert.deepEqual(await collect(B.socket, "presence:changed", 400, mine), [], "one device away: still online");
    assert.equal(await presenceOf(b, a.id), "online");

    from = B.socket.log.length;
    assert.deepEqual(await ack(A2.socket, "presence:update", { status: "away" }), { userId: a.id, status: "away" });
    const away = await waitFor(B.socket, "presence:changed", mine, { timeout: 2000, from });
    assert.equal(away.status, "away");
    assert.equal(await presenceOf(b, a.id), "away");

    from = B.socket.log.length;
    assert.deepEqual(await ack(A1.socket, "presence:update", { status: "online" }), { userId: a.id, status: "online" });
    const back = await waitFor(B.socket, "presence:changed", mine, { timeout: 2000, from });
    assert.equal(back.status, "online");

    // A2 (away) leaves: A1 is online, nothing changes
    A2.socket.close();
    assert.deepEqual(await collect(B.socket, "presence:changed", 400, mine), [], "an away device leaving changes nothing");

    from = B.socket.log.length;
    A1.socket.close();
    const off = await waitFor(B.socket, "presence:changed", mine, { timeout: 2000, from });
    assert.equal(off.status, "offline");
    assert.match(off.lastSeenAt, ISO_MS);
    assert.equal(await presenceOf(b, a.id), "offline");

    // never shown to someone who shares no conversation
    assert.deepEqual(S.socket.log.filter(([n, x]) => n === "presence:changed" && x.userId === a.id), []);
  } finally {
    closeAll(A1, A2, B, S);
  }
});

test("the last online device going away makes the user away; a repeated status says nothing", async () => {
  const a = user("solo"), b = user("watcher2");
  await conversation(a, b);
  const B = await connect(b.token, { deviceId: uuid() });
  const A = await connect(a.token, { deviceId: uuid() });
  const mine = (x) => x.userId === a.id;
  try {
    await waitFor(B.socket, "presence:changed", (x) => mine(x) && x.status === "online", { timeout: 2000 });
    assert.deepEqual(await ack(A.socket, "presence:update", { status: "online" }), { userId: a.id, status: "online" });
    assert.deepEqual(await collect(B.socket, "presence:changed", 400, mine), [], "online → online says nothing");
    let from = B.socket.log.length;
    await ack(A.socket, "presence:update", { status: "away" });
    assert.equal((await waitFor(B.socket, "presence:changed", mine, { timeout: 2000, from })).status, "away");
    await ack(A.socket, "presence:update", { status: "away" });
    assert.deepEqual(await collect(B.socket, "presence:changed", 400, mine), [], "away → away says nothing");
    from = B.socket.log.length;
    A.socket.close();
    assert.equal((await waitFor(B.socket, "presence:changed", mine, { timeout: 2000, from })).status, "offline");
  } finally {
    closeAll(A, B);
  }
});
