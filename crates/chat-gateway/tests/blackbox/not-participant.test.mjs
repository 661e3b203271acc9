// Non-participants (contract 3, 4 `not_participant`, 6 `403`).
// Covers: a user outside a conversation is refused with `not_participant` (ack and
// `error:not_participant` ErrorPayload with the conversationId, `message:failed` for sends) on every
// conversation event: message:send, message:read, typing:start, typing:stop, block:user,
// unblock:user, mute:conversation, unmute:conversation — and nothing reaches the participants or
// is stored; they never receive the conversation's events; every REST conversation route answers
// 403 problem `not_participant`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, connect, ack, waitFor, message, pair, history, rest, closeAll, expectFailure, sleep, keys } from "./lib.mjs";

test("every conversation event from a non-participant: not_participant, no effect", async () => {
  const p = await pair();
  const s = user("outsider");
  const S = await connect(s.token, { deviceId: uuid() });
  try {
    const { a, b, c, A1, B1 } = p;
    const froms = p.all.map((x) => x.socket.log.length);
    const cases = [
      ["message:send", message(c, "let me in")],
      ["message:read", { conversationId: c, lastReadSequence: 1 }],
      ["typing:start", { conversationId: c }],
      ["typing:stop", { conversationId: c }],
      ["block:user", { conversationId: c, blockedUserId: a.id }],
      ["unblock:user", { conversationId: c, blockedUserId: a.id }],
      ["mute:conversation", { conversationId: c }],
      ["unmute:conversation", { conversationId: c }],
    ];
    const failures = [];
    for (const [ev, payload] of cases) {
      try {
        const f = await expectFailure(S.socket, ev, payload, "not_participant", assert);
        assert.equal(f.error.conversationId, c, `${ev}: conversationId in the ErrorPayload`);
      } catch (e) {
        failures.push(`${ev}: ${e.message}`);
      }
    }
    assert.deepEqual(failures, []);
    await sleep(300);
    p.all.forEach((x, i) => {
      const got = x.socket.log.slice(froms[i]).map(([n]) => n).filter((n) => n !== "presence:changed");
      assert.deepEqual(got, [], "participants saw something");
    });
    assert.deepEqual((await history(a, c)).body.items, []);
    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: s.token })).body, []);
    assert.deepEqual((await rest("GET", "/users/me/mutes", { token: s.token })).body, []);
    // and the outsider hears nothing of the conversation
    const sFrom = S.socket.log.length;
    await ack(A1.socket, "message:send", message(c, "private"));
    await ack(B1.socket, "typing:start", { conversationId: c });
    await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 1 });
    await sleep(300);
    assert.deepEqual(S.socket.log.slice(sFrom).map(([n]) => n), []);
  } finally {
    closeAll(S);
    p.close();
  }
});

test("every REST conversation route from a non-participant: 403 not_participant", async () => {
  const p = await pair();
  const s = user("outsider");
  try {
    const { a, c } = p;
    const routes = [
      ["GET", `/conversations/${c}/messages`],
      ["GET", `/conversations/${c}/messages?limit=5&beforeSequence=3`],
      ["POST", `/conversations/${c}/read`, { lastReadSequence: 1 }],
      ["POST", `/conversations/${c}/block`, { blockedUserId: a.id }],
      ["POST", `/conversations/${c}/unblock`, { blockedUserId: a.id }],
      ["POST", `/conversations/${c}/mute`, {}],
      ["POST", `/conversations/${c}/unmute`, {}],
    ];
    for (const [method, path, body] of routes) {
      const r = await rest(method, path, { token: s.token, body });
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get("content-type"), /^application\/problem\+json/);
      assert.deepEqual(keys(r.body), ["code", "detail", "status", "title", "type"]);
      assert.equal(r.body.code, "not_participant");
      assert.equal(r.body.status, 403);
    }
    const list = await rest("GET", "/conversations/chat-list", { token: s.token });
    assert.deepEqual(list.body.items, []);
  } finally {
    p.close();
  }
});
