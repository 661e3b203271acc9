// REST (contract 6).
// Covers: POST /conversations/create/one-to-one (201 new, 200 existing from either side, the
// `Conversation` shape; yourself / bad UUID / missing / malformed body → 400 problem);
// GET /conversations/chat-list (`{items, total, limit, offset}`, exact `ChatListItem` and
// `Message` shapes, newest activity first, limit/offset paging, default limit 20, limit 0 / 101 /
// non-numbers / negative offset → 400); GET /conversations/{id}/messages (newest `limit` ascending,
// `limit`, `offset`, `beforeSequence`, `afterSequence`, `from`/`to`, `hasMore`, `readBy`, limit 0 /
// 201 and bad parameters → 400); problem+json bodies `{type, title, status, detail, code}` and
// content type; 401 on every authenticated route without a token; GET /health/live and
// /health/ready; GET /metrics with real figures (`chat_messages_persisted_total` grows after a
// send, `chat_socket_connected` counts live sockets); GET /openapi.json is OpenAPI 3.1 and lists
// every route. (POST read: read.test.mjs; block/unblock/mute/unmute and /users/me/*:
// block-mute.test.mjs; 403 for non-participants: not-participant.test.mjs; 429: limits.test.mjs;
// 503 `unavailable` needs a broken database and cannot be provoked black-box.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, conversation, connect, ack, message, pair, history, rest, keys, ISO_MS, closeAll, sleep } from "./lib.mjs";

const MESSAGE_KEYS = ["content", "conversationId", "messageId", "readBy", "senderId", "senderName", "serverSequence", "timestamp"];
const CHAT_ITEM_KEYS = ["blockedByMe", "blockedMe", "conversationId", "lastMessage", "muted", "participants", "type", "unreadCount", "updatedAt"];

function assertProblem(r, status, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.deepEqual(keys(r.body), ["code", "detail", "status", "title", "type"]);
  assert.equal(r.body.status, status);
  assert.equal(r.body.code, code);
  assert.equal(typeof r.body.type, "string");
  assert.equal(typeof r.body.title, "string");
  assert.equal(typeof r.body.detail, "string");
}

test("create one-to-one: 201 then 200 (from either side), Conversation shape; bad requests → 400", async () => {
  const a = user("creator"), b = user("other");
  // b has been seen (and named) before
  closeAll(await connect(b.token));
  const r = await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: b.id } });
  assert.equal(r.status, 201);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(keys(r.body), ["conversationId", "createdAt", "memberCount", "participants", "title", "type"]);
  assert.equal(r.body.type, "one_to_one");
  assert.equal(r.body.title, null);
  assert.equal(r.body.memberCount, 2);
  assert.match(r.body.createdAt, ISO_MS);
  const parts = [...r.body.participants].sort((x, y) => x.userId.localeCompare(y.userId));
  const want = [{ userId: a.id, name: a.name }, { userId: b.id, name: b.name }].sort((x, y) => x.userId.localeCompare(y.userId));
  assert.equal(parts.length, 2);
  parts.forEach((pp, i) => {
    assert.deepEqual(keys(pp), ["joinedAt", "name", "role", "userId"]);
    assert.equal(pp.role, "member");
    assert.equal(pp.userId, want[i].userId);
    assert.equal(pp.name, want[i].name);
    assert.match(pp.joinedAt, ISO_MS);
  });
  const again = await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: b.id } });
  assert.equal(again.status, 200);
  assert.equal(again.body.conversationId, r.body.conversationId);
  assert.equal(again.body.createdAt, r.body.createdAt);
  const reverse = await rest("POST", "/conversations/create/one-to-one", { token: b.token, body: { participantId: a.id } });
  assert.equal(reverse.status, 200);
  assert.equal(reverse.body.conversationId, r.body.conversationId);

  assertProblem(await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: a.id } }), 400, "validation");
  assertProblem(await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: "not-a-uuid" } }), 400, "validation");
  assertProblem(await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: 5 } }), 400, "validation");
  assertProblem(await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: {} }), 400, "validation");
  assertProblem(await rest("POST", "/conversations/create/one-to-one", { token: a.token, raw: "{oops", headers: { "content-type": "application/json" } }), 400, "validation");
});

test("chat-list: shape, newest activity first, paging and limits", async () => {
  const u = user("lister");
  const peers = [user("p1"), user("p2"), user("p3")];
  const convs = [];
  for (const p of peers) {
    convs.push(await conversation(u, p));
    await sleep(5);
  }
  let r = await rest("GET", "/conversations/chat-list", { token: u.token });
  assert.equal(r.status, 200);
  assert.deepEqual(keys(r.body), ["items", "limit", "offset", "total"]);
  assert.equal(r.body.total, 3);
  assert.equal(r.body.limit, 20);
  assert.equal(r.body.offset, 0);
  assert.deepEqual(r.body.items.map((x) => x.conversationId), [convs[2], convs[1], convs[0]], "newest first");
  for (const it of r.body.items) {
    assert.deepEqual(keys(it), CHAT_ITEM_KEYS);
    assert.equal(it.type, "one_to_one");
    assert.equal(it.lastMessage, null);
    assert.equal(it.unreadCount, 0);
    assert.equal(it.muted, false);
    assert.equal(it.blockedByMe, false);
    assert.equal(it.blockedMe, false);
    assert.match(it.updatedAt, ISO_MS);
    for (const pp of it.participants) {
      assert.deepEqual(keys(pp), ["name", "presence", "userId"]);
      assert.ok(["online", "away", "offline"].includes(pp.presence));
    }
  }
  // activity in the oldest moves it first
  const P = await connect(peers[0].token, { deviceId: uuid() });
  try {
    const m = message(convs[0], "bump");
    const d = await ack(P.socket, "message:send", m);
    r = await rest("GET", "/conversations/chat-list", { token: u.token });
    assert.deepEqual(r.body.items.map((x) => x.conversationId), [convs[0], convs[2], convs[1]]);
    const top = r.body.items[0];
    assert.equal(top.unreadCount, 1);
    assert.deepEqual(keys(top.lastMessage), MESSAGE_KEYS);
    assert.deepEqual(top.lastMessage, {
      messageId: m.messageId, conversationId: convs[0], senderId: peers[0].id, senderName: peers[0].name,
      content: "bump", timestamp: d.persistedAt, serverSequence: 1, readBy: [],
    });
    assert.equal(top.participants.find((x) => x.userId === peers[0].id).presence, "online");
  } finally {
    closeAll(P);
  }
  // paging
  r = await rest("GET", "/conversations/chat-list?limit=1&offset=1", { token: u.token });
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 3);
  assert.equal(r.body.limit, 1);
  assert.equal(r.body.offset, 1);
  assert.deepEqual(r.body.items.map((x) => x.conversationId), [convs[2]]);
  r = await rest("GET", "/conversations/chat-list?limit=100&offset=3", { token: u.token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.items, []);
  assert.equal(r.body.total, 3);
  for (const q of ["limit=0", "limit=101", "limit=abc", "offset=-1", "limit=-5"]) {
    assertProblem(await rest("GET", `/conversations/chat-list?${q}`, { token: u.token }), 400, "validation");
  }
});

test("history: newest limit ascending, before/after/offset/from/to paging, hasMore, limits", async () => {
  const p = await pair();
  try {
    const { a, b, c, A1, B1 } = p;
    const sent = [];
    for (let i = 1; i <= 14; i++) {
      const S = i % 2 ? A1 : B1;
      const m = message(c, `h${i}`);
      const d = await ack(S.socket, "message:send", m);
      assert.equal(d.serverSequence, i);
      sent.push({ ...d, content: m.content });
      await sleep(4);
    }
    const seqs = (r) => r.body.items.map((x) => x.serverSequence);
    const range = (x, y) => Array.from({ length: y - x + 1 }, (_, i) => x + i);

    let r = await history(a, c);
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.body), ["hasMore", "items"]);
    assert.deepEqual(seqs(r), range(1, 14));
    assert.equal(r.body.hasMore, false);
    for (const [i, x] of r.body.items.entries()) {
      assert.deepEqual(keys(x), MESSAGE_KEYS);
      assert.equal(x.messageId, sent[i].messageId);
      assert.equal(x.content, sent[i].content);
      assert.equal(x.timestamp, sent[i].persistedAt);
      assert.equal(x.senderId, i % 2 ? b.id : a.id);
      assert.equal(x.senderName, i % 2 ? b.name : a.name);
    }
    r = await history(a, c, { limit: 5 });
    assert.deepEqual(seqs(r), range(10, 14));
    assert.equal(r.body.hasMore, true);
    r = await history(a, c, { limit: 5, beforeSequence: 10 });
    assert.deepEqual(seqs(r), range(5, 9));
    assert.equal(r.body.hasMore, true);
    r = await history(a, c, { limit: 5, beforeSequence: 3 });
    assert.deepEqual(seqs(r), [1, 2]);
    assert.equal(r.body.hasMore, false);
    r = await history(a, c, { limit: 3, afterSequence: 10 });
    assert.deepEqual(seqs(r), [11, 12, 13]);
    assert.equal(r.body.hasMore, true);
    r = await history(a, c, { limit: 3, afterSequence: 12 });
    assert.deepEqual(seqs(r), [13, 14]);
    assert.equal(r.body.hasMore, false);
    r = await history(a, c, { afterSequence: 0, limit: 50 });
    assert.deepEqual(seqs(r), range(1, 14));
    r = await history(a, c, { limit: 3, offset: 2 });
    assert.deepEqual(seqs(r), [10, 11, 12]);
    assert.equal(r.body.hasMore, true);
    r = await history(a, c, { limit: 5, offset: 12 });
    assert.deepEqual(seqs(r), [1, 2]);
    assert.equal(r.body.hasMore, false);
    // from/to between timestamps, so inclusive or exclusive bounds do not matter
    const mid = (x, y) => new Date(Math.floor((Date.parse(sent[x - 1].persistedAt) + Date.parse(sent[y - 1].persistedAt)) / 2)).toISOString();
    const from = mid(4, 5), to = mid(8, 9);
    assert.ok(Date.parse(sent[3].persistedAt) < Date.parse(from) && Date.parse(from) < Date.parse(sent[4].persistedAt), "distinct timestamps");
    r = await history(a, c, { from, to });
    assert.deepEqual(seqs(r), range(5, 8));
    assert.equal(r.body.hasMore, false);
    r = await history(a, c, { from, to, limit: 2 });
    assert.deepEqual(seqs(r), [7, 8]);
    assert.equal(r.body.hasMore, true);
    r = await history(a, c, { from });
    assert.deepEqual(seqs(r), range(5, 14));
    r = await history(a, c, { to });
    assert.deepEqual(seqs(r), range(1, 8));
    r = await history(a, c, { limit: 200 });
    assert.equal(r.status, 200);
    // readBy
    await ack(B1.socket, "message:read", { conversationId: c, lastReadSequence: 3 });
    r = await history(b, c, { limit: 4, beforeSequence: 5 });
    assert.deepEqual(r.body.items.map((x) => x.readBy), [[b.id], [], [b.id], []], "readBy: b's marker reached 1..3, sender excepted");
    // bad parameters
    for (const q of [{ limit: 0 }, { limit: 201 }, { limit: "abc" }, { beforeSequence: "x" }, { afterSequence: -1 }, { offset: -1 }, { from: "yesterday" }, { to: "2026-13-45" }]) {
      assertProblem(await history(a, c, q), 400, "validation");
    }
    assertProblem(await rest("GET", "/conversations/not-a-uuid/messages", { token: a.token }), 400, "validation");
  } finally {
    p.close();
  }
});

test("every authenticated route answers 401 problem without a token; public routes need none", async () => {
  const c = uuid();
  const routes = [
    ["POST", "/conversations/create/one-to-one", { participantId: uuid() }],
    ["GET", "/conversations/chat-list"],
    ["GET", `/conversations/${c}/messages`],
    ["POST", `/conversations/${c}/read`, { lastReadSequence: 1 }],
    ["POST", `/conversations/${c}/block`, { blockedUserId: uuid() }],
    ["POST", `/conversations/${c}/unblock`, { blockedUserId: uuid() }],
    ["POST", `/conversations/${c}/mute`, {}],
    ["POST", `/conversations/${c}/unmute`, {}],
    ["GET", "/users/me/blocks"],
    ["GET", "/users/me/mutes"],
  ];
  for (const [method, path, body] of routes) {
    assertProblem(await rest(method, path, { body }), 401, "unauthorized");
    assertProblem(await rest(method, path, { body, token: "not.a.token" }), 401, "unauthorized");
  }
  for (const path of ["/health/live", "/health/ready", "/metrics", "/openapi.json"]) {
    assert.equal((await rest("GET", path)).status, 200, path);
  }
});

test("a conversation that does not exist: 403 or 404 problem, never 200", async () => {
  const u = user("lost");
  const r = await rest("GET", `/conversations/${uuid()}/messages`, { token: u.token });
  assert.ok([403, 404].includes(r.status), String(r.status));
  assertProblem(r, r.status, r.status === 403 ? "not_participant" : "not_found");
});

test("health: live and ready are 200", async () => {
  const live = await rest("GET", "/health/live");
  assert.equal(live.status, 200);
  const ready = await rest("GET", "/health/ready");
  assert.equal(ready.status, 200);
});

/** The value of a metric (sum of the series of that name matching `labels`). */
function metric(text, name, labels = "") {
  let total = 0, found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(name)) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!m || m[1] !== name) continue;
    if (labels && !(m[2] ?? "").includes(labels)) continue;
    total += Number(m[3]);
    found = true;
  }
  return found ? total : undefined;
}

test("metrics: Prometheus text with real figures", async () => {
  const before = await rest("GET", "/metrics");
  assert.equal(before.status, 200);
  assert.match(before.headers.get("content-type"), /^text\/plain/);
  const p = await pair();
  try {
    await ack(p.A1.socket, "message:send", message(p.c, "counted"));
    const after = await rest("GET", "/metrics");
    const t0 = metric(before.body, "chat_messages_persisted_total") ?? 0;
    const t1 = metric(after.body, "chat_messages_persisted_total");
    assert.ok(t1 !== undefined, "chat_messages_persisted_total is exported");
    assert.ok(t1 >= t0 + 1, `persisted total grew: ${t0} -> ${t1}`);
    const connected = metric(after.body, "chat_socket_connected");
    assert.ok(connected !== undefined, "chat_socket_connected is exported");
    assert.ok(connected >= 4, `chat_socket_connected=${connected} while this test holds 4 sockets`);
    assert.match(after.body, /# TYPE chat_messages_persisted_total counter/);
    assert.match(after.body, /# TYPE chat_socket_connected gauge/);
  } finally {
    p.close();
  }
});

test("openapi.json: OpenAPI 3.1 describing every REST route", async () => {
  const r = await rest("GET", "/openapi.json");
  assert.equal(r.status, 200);
  assert.match(String(r.body.openapi), /^3\.1/);
  const want = {
    "/conversations/create/one-to-one": "post",
    "/conversations/chat-list": "get",
    "/conversations/{id}/messages": "get",
    "/conversations/{id}/read": "post",
    "/conversations/{id}/block": "post",
    "/conversations/{id}/unblock": "post",
    "/conversations/{id}/mute": "post",
    "/conversations/{id}/unmute": "post",
    "/users/me/blocks": "get",
    "/users/me/mutes": "get",
    "/health/live": "get",
    "/health/ready": "get",
    "/metrics": "get",
    "/openapi.json": "get",
  };
  // path parameters may be named differently: compare with {…} normalised
  const norm = (s) => s.replace(/\{[^}]+\}/g, "{}");
  const paths = Object.fromEntries(Object.entries(r.body.paths ?? {}).map(([k, v]) => [norm(k), v]));
  for (const [path, method] of Object.entries(want)) {
    assert.ok(paths[norm(path)], `openapi lacks ${path}`);
    assert.ok(paths[norm(path)][method], `openapi lacks ${method.toUpperCase()} ${path}`);
  }
});
