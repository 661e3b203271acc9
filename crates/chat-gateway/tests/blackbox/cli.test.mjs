// The binary and its configuration (contract 1, run through CHAT_GATEWAY_BIN).
// Covers: `token --user <uuid> --name <n> --ttl <secs>` prints an HS256 token signed with the
// configured secret (accepted by the suite's server, `name` and `exp` as asked; a non-UUID user is
// refused); `migrate` applies migrations and exits 0; bad configuration stops start-up with one
// line naming the variable (a non-numeric rate limit; the development secret on a non-loopback
// address); settings are honoured (`CHAT_MAX_MESSAGE_CHARS`, `CHAT_RATE_LIMIT_MESSAGE_SEND`) from
// a `CHAT_CONFIG` TOML file, the environment winning over it; `revoke --user` voids older tokens
// on REST, at the handshake and on live sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  uuid, user, connect, ack, message, rest, closeAll, runGateway, startGateway, tempDir, freePort, within,
  TEST_SECRET, expectFailure, token, waitFor, disconnected, sleep,
} from "./lib.mjs";

const decode = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString());

test("token subcommand: a token the server accepts, with the asked name and ttl", async () => {
  const id = uuid();
  const g = await runGateway(["token", "--user", id, "--name", "Cli User", "--ttl", "120"], { CHAT_JWT_SECRET: TEST_SECRET });
  const exit = await within(g.exited, 10000);
  assert.equal(exit?.code, 0, g.stderr());
  const t = g.stdout().trim();
  assert.match(t, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const header = JSON.parse(Buffer.from(t.split(".")[0], "base64url").toString());
  assert.equal(header.alg, "HS256");
  const claims = decode(t);
  assert.equal(claims.sub, id);
  assert.equal(claims.name, "Cli User");
  assert.equal(typeof claims.exp, "number");
  assert.ok(Math.abs(claims.exp - (Date.now() / 1000 + 120)) < 10, `exp ${claims.exp}`);
  const s = await connect(t);
  try {
    assert.equal(s.hello.userId, id);
  } finally {
    closeAll(s);
  }
  const peer = user("peer");
  await rest("POST", "/conversations/create/one-to-one", { token: peer.token, body: { participantId: id } });
  const list = await rest("GET", "/conversations/chat-list", { token: peer.token });
  assert.equal(list.body.items[0].participants.find((p) => p.userId === id).name, "Cli User");

  const bad = await runGateway(["token", "--user", "not-a-uuid"], { CHAT_JWT_SECRET: TEST_SECRET });
  const badExit = await within(bad.exited, 10000);
  assert.ok(badExit && badExit.code !== 0, "a non-UUID user is refused");
  assert.equal(bad.stdout().trim(), "");
});

test("migrate applies the migrations and exits 0", async () => {
  const dir = await tempDir();
  const db = join(dir, "chat.db");
  const g = await runGateway(["migrate"], { CHAT_DATABASE_URL: `sqlite://${db}?mode=rwc`, CHAT_JWT_SECRET: TEST_SECRET });
  const exit = await within(g.exited, 15000);
  assert.equal(exit?.code, 0, g.stderr());
  assert.ok(existsSync(db));
});

async function refusedConfig(env, variable) {
  const dir = await tempDir();
  const port = await freePort();
  const g = await runGateway(["serve"], { CHAT_DATABASE_URL: `sqlite://${join(dir, "chat.db")}?mode=rwc`, CHAT_BIND: `127.0.0.1:${port}`, ...env });
  const exit = await within(g.exited, 5000);
  if (!exit) g.proc.kill("SIGKILL");
  assert.ok(exit, `start-up was not stopped (${variable})`);
  assert.notEqual(exit.code, 0);
  const lines = g.stderr().trim().split("\n").filter((l) => l.trim());
  assert.equal(lines.length, 1, `one line: ${g.stderr()}`);
  assert.ok(lines[0].includes(variable), `names ${variable}: ${lines[0]}`);
}

test("bad configuration stops start-up with one line naming the variable", async () => {
  await refusedConfig({ CHAT_JWT_SECRET: TEST_SECRET, CHAT_RATE_LIMIT_MESSAGE_SEND: "abc" }, "CHAT_RATE_LIMIT_MESSAGE_SEND");
  await refusedConfig({ CHAT_JWT_SECRET: TEST_SECRET, CHAT_MAX_MESSAGE_CHARS: "-4" }, "CHAT_MAX_MESSAGE_CHARS");
  // the development secret is refused on a non-loopback address
  const port = await freePort();
  await refusedConfig({ CHAT_BIND: `0.0.0.0:${port}` }, "CHAT_JWT_SECRET");
});

test("settings from a CHAT_CONFIG TOML file are honoured; the environment wins", async () => {
  const dir = await tempDir();
  const file = join(dir, "chat.toml");
  writeFileSync(file, "CHAT_MAX_MESSAGE_CHARS = 10\nCHAT_RATE_LIMIT_MESSAGE_SEND = 5\n");
  const g = await startGateway({ dir, env: { CHAT_CONFIG: file, CHAT_RATE_LIMIT_MESSAGE_SEND: "2" } });
  const sockets = [];
  try {
    const a = user("cfg"), b = user("cfg2");
    const c = (await rest("POST", "/conversations/create/one-to-one", { base: g.url, token: a.token, body: { participantId: b.id } })).body.conversationId;
    const A = await connect(a.token, { url: g.url, deviceId: uuid() });
    sockets.push(A);
    await expectFailure(A.socket, "message:send", message(c, "x".repeat(11)), "validation", assert);
    assert.equal((await ack(A.socket, "message:send", message(c, "x".repeat(10)))).serverSequence, 1);
    assert.equal((await ack(A.socket, "message:send", message(c, "two"))).serverSequence, 2);
    await expectFailure(A.socket, "message:send", message(c, "three"), "rate_limit_exceeded", assert);
  } finally {
    closeAll(sockets);
    g.proc.kill("SIGTERM");
    await within(g.exited, 5000);
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
  }
});

test("revoke: older tokens are refused on REST (401) and at the handshake (token_revoked), live sockets get error:unauthorized token_revoked and go within 5 s; newer tokens work", async () => {
  const g = await startGateway();
  const id = uuid();
  const now = () => Math.floor(Date.now() / 1000);
  const old = token(id, { name: "Old", claims: { iat: now() - 5 } });
  const noIat = token(id, { name: "Old", claims: { iat: undefined } });
  const live = await connect(old, { url: g.url });
  try {
    assert.equal((await rest("GET", "/users/me/blocks", { token: old, base: g.url })).status, 200);
    const r = await runGateway(["revoke", "--user", id], { CHAT_DATABASE_URL: `sqlite://${g.dir}/chat.db?mode=rwc`, CHAT_JWT_SECRET: TEST_SECRET });
    const exit = await within(r.exited, 15000);
    assert.equal(exit?.code, 0, r.stderr());
    const revokedAt = Date.now();
    // REST and handshakes: at once
    for (const t of [old, noIat]) {
      const refused = await rest("GET", "/users/me/blocks", { token: t, base: g.url });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.code, "unauthorized");
      assert.equal(refused.body.detail, "the token was revoked");
      await assert.rejects(connect(t, { url: g.url }), (e) => e.message === "token_revoked");
    }
    // the live socket: told, then disconnected, within 5 s
    const told = await waitFor(live.socket, "error:unauthorized", (p) => p.code === "token_revoked", { timeout: 5000 });
    assert.equal(told.event, "auth");
    const [reason] = await disconnected(live.socket, 5000 - (Date.now() - revokedAt));
    assert.equal(reason, "io server disconnect");
    // a token issued from the next second on works
    await sleep(1100 - (Date.now() % 1000));
    const fresh = token(id, { name: "New" });
    assert.equal((await rest("GET", "/users/me/blocks", { token: fresh, base: g.url })).status, 200);
    const again = await connect(fresh, { url: g.url });
    closeAll(again);
    // and a refresh to a revoked token is refused too
    const s2 = await connect(fresh, { url: g.url });
    try {
      const refresh = await ack(s2.socket, "auth", { token: old });
      assert.equal(refresh.error.code, "unauthorized");
      assert.equal(refresh.error.message, "token_revoked");
    } finally {
      closeAll(s2);
    }
    const bad = await runGateway(["revoke", "--user", "nope"], { CHAT_DATABASE_URL: `sqlite://${g.dir}/chat.db?mode=rwc`, CHAT_JWT_SECRET: TEST_SECRET });
    const badExit = await within(bad.exited, 10000);
    assert.ok(badExit && badExit.code !== 0, "a non-UUID user is refused");
  } finally {
    closeAll(live);
    g.proc.kill("SIGTERM");
    await within(g.exited, 10000);
  }
});
