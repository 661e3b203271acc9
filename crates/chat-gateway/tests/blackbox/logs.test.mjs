// What the gateway's own log shows (contract 1: logs never carry tokens or message content).
// Covers: at RUST_LOG=debug (and trace), a handshake with the token in the query string AND in
// the `auth` payload, over WebSocket and over long-polling, and a message with distinctive
// content, leave neither the token nor the content anywhere in the log. CHAT_LOG_FORMAT=json
// writes one JSON object per line and text one plain line; every HTTP request gets an id
// (the client's `x-request-id`, else a new UUID) echoed in the response and exactly one access
// line at info with method, path (no query), status, latency and that id; sea-orm-migration's
// notices are not at info.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";
import { user, ack, message, rest, startGateway, within, sleep, UUID_RE } from "./lib.mjs";

/** Connects to `url` with `token` in both the query string and `auth`; resolves to the socket. */
function connectBoth(url, token, transports) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      auth: { token, deviceId: randomUUID() },
      query: { token },
      transports,
      reconnection: false,
      forceNew: true,
      timeout: 5000,
    });
    socket.once("connected", () => resolve(socket));
    socket.once("connect_error", (e) => { socket.close(); reject(e); });
  });
}

async function stop(g) {
  g.proc.kill("SIGTERM");
  await within(g.exited, 5000);
  if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
}

// the second asks for the wire libraries' trace lines by name: they stay capped all the same
for (const level of ["debug", "trace,socketioxide=trace,engineioxide=trace,tungstenite=trace"]) {
  test(`RUST_LOG=${level}: no token and no message content in the log`, async () => {
    const g = await startGateway({ env: { RUST_LOG: level } });
    const sockets = [];
    const a = user("logs"), b = user("logs2");
    const secret = `secret-content-${randomUUID()}`;
    try {
      const c = (await rest("POST", "/conversations/create/one-to-one", { base: g.url, token: a.token, body: { participantId: b.id } })).body.conversationId;
      // the token in the query of a REST call too (ignored by the API, but logged by a naive span)
      await rest("GET", `/health/live?token=${a.token}`, { base: g.url });
      for (const transports of [["websocket"], ["polling"]]) {
        const A = await connectBoth(g.url, a.token, transports);
        const B = await connectBoth(g.url, b.token, transports);
        sockets.push(A, B);
        const delivered = new Promise((resolve) => B.once("message:received", resolve));
        const r = await ack(A, "message:send", message(c, `${secret} ${transports[0]}`));
        assert.equal(typeof r.serverSequence, "number", JSON.stringify(r));
        const m = await within(delivered, 5000);
        assert.ok(m, "the peer got the message");
      }
      await sleep(300);
    } finally {
      for (const s of sockets) s.close();
      await sleep(200);
      await stop(g);
    }
    const log = g.stderr();
    assert.ok(log.length > 1000, `the ${level} log was captured (${log.length} bytes)`);
    // the log really is at this level (a quiet log would pass trivially)
    assert.match(log, level.startsWith("trace") ? /TRACE/ : /DEBUG/);
    // the handshakes were traced, with the query's token redacted
    assert.match(log, /http\.path=\/socket\.io\/ http\.query=\S*\btoken=\[redacted\]/);
    const signature = a.token.split(".")[2];
    for (const [what, needle] of [["token", a.token], ["token signature", signature], ["peer token", b.token.split(".")[2]], ["message content", secret]]) {
      const hits = log.split("\n").filter((l) => l.includes(needle));
      assert.equal(hits.length, 0, `${what} in the ${level} log:\n${hits.slice(0, 5).join("\n")}`);
    }
  });
}

/** Two requests: one without an id (the token-like query must not show), one with a proxy's id. */
async function twoRequests(g) {
  const r1 = await fetch(`${g.url}/health/live?token=query-secret-value`);
  const generated = r1.headers.get("x-request-id");
  assert.match(generated ?? "", UUID_RE, "a request without an id gets a UUID, echoed");
  const r2 = await fetch(`${g.url}/no/such/route`, { headers: { "x-request-id": "proxy-id-42" } });
  assert.equal(r2.status, 404);
  assert.equal(r2.headers.get("x-request-id"), "proxy-id-42", "a client's id is kept and echoed");
  await sleep(200);
  return generated;
}

test("CHAT_LOG_FORMAT=json: JSON lines, one access line per request with its id, no migration notice at info", async () => {
  const g = await startGateway({ env: { RUST_LOG: "info", CHAT_LOG_FORMAT: "json" } });
  let generated;
  try {
    generated = await twoRequests(g);
  } finally {
    await stop(g);
  }
  const lines = g.stderr().split("\n").filter((l) => l.trim());
  const records = lines.map((l) => {
    try { return JSON.parse(l); } catch { assert.fail(`not a JSON line: ${l}`); }
  });
  assert.ok(records.some((r) => r.message === "chat gateway listening" && r.addr), "start-up is logged with its fields");
  const access = records.filter((r) => r.target === "chat_gateway::access");
  assert.ok(access.length >= 2, `access lines: ${JSON.stringify(access)}`);
  const ids = access.map((r) => r.span?.["request.id"]);
  assert.equal(new Set(ids).size, ids.length, `one access line per request id: ${ids}`);
  const one = (id) => {
    const found = access.filter((r) => r.span?.["request.id"] === id);
    assert.equal(found.length, 1, `one access line for ${id}`);
    return found[0];
  };
  const a = one(generated);
  assert.equal(a.level, "INFO");
  assert.equal(a.span["http.method"], "GET");
  assert.equal(a.span["http.path"], "/health/live");
  assert.equal(a.span["http.query"], "token=[redacted]");
  assert.equal(a["http.status"], 200);
  assert.equal(typeof a.latency_ms, "number");
  const b = one("proxy-id-42");
  assert.equal(b.span["http.path"], "/no/such/route");
  assert.equal(b["http.status"], 404);
  assert.ok(!g.stderr().includes("query-secret-value"), "the query's token-like value is not logged");
  const migrations = records.filter((r) => String(r.target).startsWith("sea_orm_migration"));
  assert.equal(migrations.length, 0, `migration notices at info: ${JSON.stringify(migrations[0])}`);
});

test("CHAT_LOG_FORMAT=text (the default): plain lines, the access line carries the request id", async () => {
  const g = await startGateway({ env: { RUST_LOG: "info" } });
  let generated;
  try {
    generated = await twoRequests(g);
  } finally {
    await stop(g);
  }
  const log = g.stderr();
  const lines = log.split("\n").filter((l) => l.trim());
  for (const l of lines) assert.ok(!l.startsWith("{"), `a JSON line in the text log: ${l}`);
  const access = lines.filter((l) => l.includes("chat_gateway::access"));
  const mine = access.filter((l) => l.includes(`request.id=${generated}`));
  assert.equal(mine.length, 1, access.join("\n"));
  assert.match(mine[0], /INFO request\{http\.method=GET http\.path=\/health\/live http\.query=token=\[redacted\] request\.id=[^}]+\}: chat_gateway::access: request served http\.status=200 latency_ms=[\d.]+/);
  assert.equal(access.filter((l) => l.includes("request.id=proxy-id-42")).length, 1);
  assert.ok(!log.includes("Applying migration"), "migration notices are not at info");
});
