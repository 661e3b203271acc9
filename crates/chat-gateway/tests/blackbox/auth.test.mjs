// Authentication (contract sections 2 and 5).
// Covers: Socket.IO handshake refusals as `connect_error` with message `token_missing` /
// `token_invalid` / `token_expired`, token in `auth.token` and in the `?token=` query (auth
// preferred), `alg: none`, algorithm confusion (HS512, RS256 header), wrong secret, missing or
// string `exp`, future `nbf`, non-UUID `sub`, 30 s leeway; `deviceId` in auth / query / made by the
// server; the `connected` payload; user rows and display names from the `name` claim; the `auth`
// event (ack `{userId, expiresAt}`, another user's token → `unauthorized` + disconnect, bad token →
// `unauthorized`, malformed → `validation`), token expiry of a live socket
// (`error:unauthorized` `{code:"token_expired"}` then disconnect) and refresh that prevents it;
// REST 401 problem for missing/bad/expired tokens; `CHAT_CORS_ORIGINS` unset: a page of another
// origin is refused (`origin_not_allowed`), the same origin and clients without `Origin` connect;
// a bad `deviceId` or `lastSequences` key refuses the handshake with `validation`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import {
  URL, user, token, uuid, rest, conversation, connect, ack, waitFor, collect, sleep, refusal, disconnected,
  closeAll, keys, ISO_MS, UUID_RE, expectFailure,
} from "./lib.mjs";

const now = () => Math.floor(Date.now() / 1000);
const unsigned = (sub) => {
  const t = token(sub, { header: { alg: "none", typ: "JWT" } });
  return `${t.split(".").slice(0, 2).join(".")}.`;
};

test("handshake refusals via auth.token carry the contract's codes", async () => {
  const id = uuid();
  const cases = [
    ["no token at all", undefined, "token_missing"],
    ["garbage", "not-a-jwt", "token_invalid"],
    ["wrong secret", token(id, { secret: "another-secret-0123456789" }), "token_invalid"],
    ["alg none, no signature", unsigned(id), "token_invalid"],
    ["alg none, with a signature", token(id, { header: { alg: "none", typ: "JWT" } }), "token_invalid"],
    ["HS512 with the right secret", token(id, { header: { alg: "HS512", typ: "JWT" } }), "token_invalid"],
    ["RS256 header, HMAC signature (confusion)", token(id, { header: { alg: "RS256", typ: "JWT" } }), "token_invalid"],
    ["expired beyond the 30 s leeway", token(id, { ttl: -90 }), "token_expired"],
    ["missing exp", token(id, { claims: { exp: undefined } }), "token_invalid"],
    ["string exp", token(id, { claims: { exp: String(now() + 600) } }), "token_invalid"],
    ["sub not a UUID", token("bob", {}), "token_invalid"],
    ["no sub", token(undefined, {}), "token_invalid"],
  ];
  const got = await Promise.all(cases.map(([, t]) => refusal(t)));
  cases.forEach(([label, , code], i) => assert.equal(got[i], code, label));
});

test("a token not valid before a future nbf is refused", async () => {
  const msg = await refusal(token(uuid(), { claims: { nbf: now() + 600 } }));
  assert.ok(["token_invalid", "token_expired"].includes(msg), msg);
});

test("handshake via the ?token= query: accepted when good, same refusal codes when not", async () => {
  const u = user("query");
  const ok = await connect(undefined, { query: { token: u.token } });
  try {
    assert.equal(ok.event, "connected");
    assert.equal(ok.hello.userId, u.id);
  } finally {
    ok.socket.close();
  }
  assert.equal(await refusal(undefined, { query: { deviceId: uuid() } }), "token_missing");
  assert.equal(await refusal(undefined, { query: { token: "x.y.z" } }), "token_invalid");
  assert.equal(await refusal(undefined, { query: { token: unsigned(u.id) } }), "token_invalid");
  assert.equal(await refusal(undefined, { query: { token: token(u.id, { ttl: -120 }) } }), "token_expired");
  assert.equal(await refusal(undefined, { query: { token: token(u.id, { secret: "nope-nope-nope-nope" }) } }), "token_invalid");
});

test("auth.token is preferred over the query token", async () => {
  const x = user("authwins"), y = user("querylost");
  const s = await connect(undefined, { auth: { token: x.token }, query: { token: y.token } });
  try {
    assert.equal(s.hello.userId, x.id);
  } finally {
    s.socket.close();
  }
  const s2 = await connect(undefined, { auth: { token: x.token }, query: { token: "garbage" } });
  try {
    assert.equal(s2.hello.userId, x.id);
  } finally {
    s2.socket.close();
  }
});

test("a token expired 10 s ago is inside the 30 s leeway: REST accepts it and the handshake is not refused", async () => {
  const u = user("leeway");
  const t = token(u.id, { ttl: -10 });
  const r = await rest("GET", "/users/me/blocks", { token: t });
  assert.equal(r.status, 200);
  const outcome = await new Promise((resolve) => {
    const s = io(URL, { auth: { token: t }, transports: ["websocket"], reconnection: false, forceNew: true });
    const timer = setTimeout(() => { s.close(); resolve("timeout"); }, 3000);
    s.once("connect", () => { clearTimeout(timer); s.close(); resolve("connect"); });
    s.once("connect_error", (e) => { clearTimeout(timer); s.close(); resolve(`connect_error ${e.message}`); });
  });
  assert.equal(outcome, "connect");
  const r2 = await rest("GET", "/users/me/blocks", { token: token(u.id, { ttl: -90 }) });
  assert.equal(r2.status, 401);
});

test("connected: exact shape, given deviceId, socketId, unreadCounts, serverTime", async () => {
  const a = user("hello"), b = user("peer");
  const deviceId = uuid();
  const lone = await connect(a.token, { deviceId });
  try {
    const h = lone.hello;
    assert.equal(lone.event, "connected");
    assert.deepEqual(keys(h), ["deviceId", "resumed", "serverTime", "socketId", "unreadCounts", "userId"]);
    assert.equal(h.userId, a.id);
    assert.equal(h.deviceId, deviceId);
    assert.equal(h.socketId, lone.socket.id);
    assert.equal(h.resumed, false);
    assert.deepEqual(h.unreadCounts, {});
    assert.equal(typeof h.serverTime, "number");
    assert.ok(Math.abs(h.serverTime - Date.now()) < 5000, "serverTime is epoch ms");
  } finally {
    lone.socket.close();
  }
  const c = await conversation(a, b);
  const again = await connect(a.token, { deviceId: uuid() });
  try {
    assert.deepEqual(again.hello.unreadCounts, { [c]: 0 });
  } finally {
    again.socket.close();
  }
});

test("deviceId: from the query, or made by the server (distinct per connection) and returned", async () => {
  const u = user("dev");
  const d = uuid();
  const q = await connect(undefined, { query: { token: u.token, deviceId: d } });
  const s1 = await connect(u.token);
  const s2 = await connect(u.token);
  try {
    assert.equal(q.hello.deviceId, d);
    assert.equal(typeof s1.hello.deviceId, "string");
    assert.ok(s1.hello.deviceId.length > 0);
    assert.notEqual(s1.hello.deviceId, s2.hello.deviceId);
    assert.match(s1.hello.deviceId, UUID_RE);
  } finally {
    closeAll(q, s1, s2);
  }
});

test("users are created on first sight; the name claim sets and updates the display name", async () => {
  const a = user("namer");
  const bid = uuid();
  // b is first seen as a participant (no name yet).
  const created = await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: bid } });
  assert.equal(created.status, 201);
  const pa = created.body.participants.find((p) => p.userId === a.id);
  assert.equal(pa.name, a.name);
  // b connects with a name: a sees it.
  const s = await connect(token(bid, { name: "Bob First" }));
  s.socket.close();
  let list = await rest("GET", "/conversations/chat-list", { token: a.token });
  assert.equal(list.body.items[0].participants.find((p) => p.userId === bid).name, "Bob First");
  // a later token with another name updates it (REST counts too).
  const r = await rest("GET", "/users/me/blocks", { token: token(bid, { name: "Bob Renamed" }) });
  assert.equal(r.status, 200);
  list = await rest("GET", "/conversations/chat-list", { token: a.token });
  assert.equal(list.body.items[0].participants.find((p) => p.userId === bid).name, "Bob Renamed");
});

test("a name claim loses its invisible formatting characters (no bidi spoofing); emoji joiners stay", async () => {
  const a = user("viewer");
  const bid = uuid();
  await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: bid } });
  const nameOf = async () => {
    const list = await rest("GET", "/conversations/chat-list", { token: a.token });
    return list.body.items[0].participants.find((p) => p.userId === bid).name;
  };
  // U+202E RIGHT-TO-LEFT OVERRIDE would show "Mallory\u202Egnp.exe" as "Mallory" + "exe.png"
  let r = await rest("GET", "/users/me/blocks", { token: token(bid, { name: "\u2066Mallory\u202Egnp.exe\u2069\u200B" }) });
  assert.equal(r.status, 200);
  assert.equal(await nameOf(), "Mallorygnp.exe");
  r = await rest("GET", "/users/me/blocks", { token: token(bid, { name: "Dev \u{1F469}\u200D\u{1F4BB}" }) });
  assert.equal(r.status, 200);
  assert.equal(await nameOf(), "Dev \u{1F469}\u200D\u{1F4BB}");
});

test("auth event refreshes the token: ack {userId, expiresAt} and the socket keeps working", async () => {
  const u = user("refresh");
  const s = await connect(u.token);
  try {
    const exp = now() + 7200;
    const fresh = token(u.id, { claims: { exp } });
    const a = await ack(s.socket, "auth", { token: fresh });
    assert.deepEqual(keys(a), ["expiresAt", "userId"]);
    assert.equal(a.userId, u.id);
    assert.match(a.expiresAt, ISO_MS);
    assert.equal(a.expiresAt, new Date(exp * 1000).toISOString());
    const p = await ack(s.socket, "socket:ping", { clientTime: 1 });
    assert.equal(p.clientTime, 1);
  } finally {
    s.socket.close();
  }
});

test("auth with another user's token: unauthorized ack, error:unauthorized, then disconnect", async () => {
  const u = user("victim"), other = user("other");
  const s = await connect(u.token);
  try {
    const gone = disconnected(s.socket);
    await expectFailure(s.socket, "auth", { token: other.token }, "unauthorized", assert);
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect");
  } finally {
    s.socket.close();
  }
});

test("auth with a bad or expired token: unauthorized; malformed auth payloads: validation", async () => {
  const u = user("badrefresh");
  const s = await connect(u.token);
  try {
    await expectFailure(s.socket, "auth", { token: "garbage" }, "unauthorized", assert);
    // the socket may be dropped after a failed refresh; reconnect for each case
  } finally {
    s.socket.close();
  }
  for (const t of [token(u.id, { ttl: -120 }), token(u.id, { secret: "wrong-wrong-wrong-wrong" }), unsigned(u.id)]) {
    const s2 = await connect(u.token);
    try {
      await expectFailure(s2.socket, "auth", { token: t }, "unauthorized", assert);
    } finally {
      s2.socket.close();
    }
  }
  const s3 = await connect(u.token);
  try {
    for (const bad of [{}, { token: 5 }, { token: null }, "just a string", null, [u.token], 42, undefined]) {
      await expectFailure(s3.socket, "auth", bad, "validation", assert);
    }
    assert.ok(s3.socket.connected, "a malformed auth does not disconnect");
  } finally {
    s3.socket.close();
  }
});

test("a live socket whose token expires gets error:unauthorized {code:'token_expired'} and is disconnected", async () => {
  const u = user("shortlived");
  const t0 = Date.now();
  // Expired 28 s ago: still inside the 30 s leeway, so accepted, and cut off about 2 s later.
  const s = await connect(token(u.id, { ttl: -28 }));
  try {
    const gone = disconnected(s.socket, 6000);
    const e = await waitFor(s.socket, "error:unauthorized", () => true, { timeout: 6000 });
    assert.equal(e.code, "token_expired");
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900 && elapsed < 4000, `expired after ${elapsed} ms`);
  } finally {
    s.socket.close();
  }
});

test("refreshing before expiry keeps a short-lived socket alive", async () => {
  const u = user("kept");
  // Would be cut off about 2 s from now (28 s past exp, 30 s leeway) without the refresh.
  const s = await connect(token(u.id, { ttl: -28 }));
  try {
    await ack(s.socket, "auth", { token: token(u.id, { ttl: 3600 }) });
    const errs = await collect(s.socket, "error:unauthorized", 3000);
    assert.deepEqual(errs, []);
    assert.ok(s.socket.connected);
    const p = await ack(s.socket, "socket:ping", { clientTime: 7 });
    assert.equal(p.clientTime, 7);
  } finally {
    s.socket.close();
  }
});

test("REST without or with a bad token: 401 problem+json code unauthorized", async () => {
  const u = user("rest401");
  const cases = [
    {},
    { headers: { authorization: "Bearer garbage" } },
    { headers: { authorization: `Bearer ${token(u.id, { secret: "wrong-wrong-wrong-wrong" })}` } },
    { headers: { authorization: `Bearer ${token(u.id, { ttl: -120 })}` } },
    { headers: { authorization: `Bearer ${unsigned(u.id)}` } },
    { headers: { authorization: `Basic ${u.token}` } },
    { headers: { authorization: u.token } },
  ];
  for (const opts of cases) {
    const r = await rest("GET", "/conversations/chat-list", opts);
    assert.equal(r.status, 401, JSON.stringify(opts));
    assert.match(r.headers.get("content-type"), /^application\/problem\+json/);
    assert.equal(r.headers.get("www-authenticate"), "Bearer");
    assert.equal(r.body.code, "unauthorized");
    assert.equal(r.body.status, 401);
  }
});

/** Connects with an `Origin` header; resolves "connected" or the connect_error message. */
function withOrigin(t, origin) {
  return new Promise((resolve) => {
    const s = io(URL, { auth: { token: t }, transports: ["websocket"], reconnection: false, forceNew: true, extraHeaders: { origin } });
    const done = (v) => { s.close(); resolve(v); };
    s.once("connected", () => done("connected"));
    s.once("connect_error", (e) => done(e.message));
    setTimeout(() => done("timeout"), 5000);
  });
}

test("a page of another origin is refused; the same origin connects (CHAT_CORS_ORIGINS unset)", async () => {
  const u = user("origin");
  assert.equal(await withOrigin(u.token, "http://evil.example"), "origin_not_allowed");
  assert.equal(await withOrigin(u.token, URL), "connected");
});

test("a bad deviceId or lastSequences key refuses the handshake with validation", async () => {
  const u = user("baddevice");
  const cases = [
    { deviceId: "has space" },
    { deviceId: "x".repeat(129) },
    { query: { deviceId: "tab\there" } },
    { lastSequences: { "not-a-uuid": 3 } },
    // a field of the wrong type, beside a good token: validation, not token_missing
    { deviceId: 42 },
    { lastSequences: { [uuid()]: -1 } },
    { lastSequences: { [uuid()]: "7" } },
    { lastSequences: [1, 2] },
  ];
  for (const opts of cases) {
    const t = opts.query ? undefined : u.token;
    const o = opts.query ? { query: { token: u.token, ...opts.query } } : opts;
    assert.equal(await refusal(t, o), "validation", JSON.stringify(opts));
  }
  // The same user connects fine with a good device id: nothing was left behind.
  const ok = await connect(u.token, { deviceId: "laptop-1" });
  ok.socket.close();
});
