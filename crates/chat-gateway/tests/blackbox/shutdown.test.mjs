// Graceful shutdown (contract 4.1 "the ack is sent only after the message is durably committed",
// error `unavailable`; the `chat-gateway serve` binary of section 1).
// Covers: a gateway of its own (CHAT_GATEWAY_BIN, own port and SQLite file) gets SIGTERM right
// after several sends (and two more right after the signal): every send is answered — a success ack, or `unavailable` if it arrived once
// the drain had started — never silence; the sockets are disconnected; the process exits 0
// within a few seconds; after a restart on the same database every acknowledged message is in the
// history (and nothing that was not sent). A resend after the restart is a duplicate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, uuid, connect, ack, message, rest, closeAll, disconnected, sleep, startGateway, within } from "./lib.mjs";

test("SIGTERM during sends: every send answered, sockets disconnected, exit 0, acked messages durable", async (t) => {
  const g = await startGateway();
  let g2;
  const sockets = [];
  try {
    const a = user("last"), b = user("words");
    const cr = await rest("POST", "/conversations/create/one-to-one", { base: g.url, token: a.token, body: { participantId: b.id } });
    assert.equal(cr.status, 201);
    const c = cr.body.conversationId;
    const A = await connect(a.token, { url: g.url, deviceId: uuid() });
    const B = await connect(b.token, { url: g.url, deviceId: uuid() });
    sockets.push(A, B);
    const goneA = disconnected(A.socket, 8000), goneB = disconnected(B.socket, 8000);

    const msgs = Array.from({ length: 8 }, (_, i) => message(c, `final ${i}`));
    const send = (S, m, late = false) => ack(S.socket, "message:send", m, 12000)
      .then((x) => ({ m, ok: true, x }), (e) => ({ m, ok: false, e: e.message, late }));
    const answers = msgs.map((m, i) => send(i % 2 ? B : A, m));
    await sleep(15); // let the frames leave the client
    const t0 = Date.now();
    g.proc.kill("SIGTERM");
    // Up to two more right after the signal, while the drain runs. These race the server closing
    // the socket: one still on the wire when the connection closes cannot be answered, so for
    // these only a client-side "disconnected" is tolerated besides an answer.
    const late = [];
    for (const d of [0, 5]) {
      await sleep(d);
      if (!A.socket.connected) break;
      const m = message(c, `late ${d}`);
      late.push(m);
      answers.push(send(A, m, true));
    }
    msgs.push(...late);

    const results = (await Promise.all(answers)).filter((r) => !(r.late && /disconnected/.test(r.e)));
    const silent = results.filter((r) => !r.ok);
    assert.deepEqual(silent, [], "some sends were never answered");
    const acked = [], unavailable = [];
    for (const r of results) {
      if (r.x.error) {
        assert.equal(r.x.error.code, "unavailable", `${r.m.content}: ${JSON.stringify(r.x)}`);
        unavailable.push(r.m.messageId);
      } else {
        assert.equal(r.x.messageId, r.m.messageId);
        assert.equal(r.x.status, "delivered");
        acked.push(r.m.messageId);
      }
    }

    t.diagnostic(`acked ${acked.length}, unavailable ${unavailable.length}`);
    const [ra] = await goneA, [rb] = await goneB;
    assert.ok(["io server disconnect", "transport close"].includes(ra), ra);
    assert.ok(["io server disconnect", "transport close"].includes(rb), rb);

    const exit = await within(g.exited, 8000);
    assert.ok(exit, "the process did not exit within 8 s of SIGTERM");
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${g.stderr()}`);
    assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);

    // restart on the same database: acknowledged means durable
    g2 = await startGateway({ dir: g.dir });
    const h = await rest("GET", `/conversations/${c}/messages?limit=50`, { base: g2.url, token: a.token });
    assert.equal(h.status, 200);
    const stored = h.body.items.map((x) => x.messageId);
    for (const id of acked) assert.ok(stored.includes(id), `acknowledged message ${id} lost`);
    for (const id of stored) assert.ok(msgs.some((m) => m.messageId === id), "a message nobody sent");
    assert.deepEqual(h.body.items.map((x) => x.serverSequence), stored.map((_, i) => i + 1), "gap-free after restart");
    // an acknowledged message resent after the restart is a duplicate
    const mine = msgs.filter((m, i) => i % 2 === 0 || i >= 8).find((m) => acked.includes(m.messageId));
    if (mine) {
      const A2 = await connect(a.token, { url: g2.url, deviceId: uuid() });
      sockets.push(A2);
      assert.equal((await ack(A2.socket, "message:send", mine)).duplicate, true);
    }
  } finally {
    closeAll(sockets);
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
    if (g2) {
      g2.proc.kill("SIGTERM");
      await within(g2.exited, 5000);
      if (g2.proc.exitCode === null) g2.proc.kill("SIGKILL");
    }
  }
});

test("SIGTERM on an idle gateway with connected clients: they are disconnected and it exits 0 promptly", async () => {
  const g = await startGateway();
  const sockets = [];
  try {
    const a = user("idle");
    const A = await connect(a.token, { url: g.url, deviceId: uuid() });
    sockets.push(A);
    const gone = disconnected(A.socket, 5000);
    const t0 = Date.now();
    g.proc.kill("SIGTERM");
    await gone;
    const exit = await within(g.exited, 5000);
    assert.ok(exit, "did not exit within 5 s");
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < 3000, `exited after ${Date.now() - t0} ms`);
  } finally {
    closeAll(sockets);
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
  }
});
