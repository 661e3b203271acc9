// What the gateway's own log shows (contract 1: logs never carry tokens or message content).
// Covers: at RUST_LOG=debug (and trace), a handshake with the token in the query string AND in
// the `auth` payload, over WebSocket and over long-polling, and a message with distinctive
// content, leave neither the token nor the content anywhere in the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";
import { user, ack, message, rest, startGateway, within, sleep } from "./lib.mjs";

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
