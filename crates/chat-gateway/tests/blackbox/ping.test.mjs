// socket:ping (contract 4 table).
// Covers: ack `{clientTime, serverTime}` echoing clientTime, `socket:pong` with the same payload to
// the pinging socket only (not to the user's other device), serverTime in epoch ms, a ping with
// no payload or an empty object is answered too. (Malformed pings: validation.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { ack, waitFor, pair, keys, sleep } from "./lib.mjs";

test("socket:ping: ack {clientTime, serverTime} and socket:pong with the same, to that socket only", async () => {
  const p = await pair();
  try {
    const { A1, A2, B1 } = p;
    const froms = [A2, B1].map((S) => S.socket.log.length);
    const clientTime = Date.now();
    const r = await ack(A1.socket, "socket:ping", { clientTime });
    assert.deepEqual(keys(r), ["clientTime", "serverTime"]);
    assert.equal(r.clientTime, clientTime);
    assert.equal(typeof r.serverTime, "number");
    assert.ok(Math.abs(r.serverTime - Date.now()) < 5000);
    const pong = await waitFor(A1.socket, "socket:pong", (x) => x.clientTime === clientTime, { timeout: 2000 });
    assert.deepEqual(pong, r);
    await sleep(300);
    [A2, B1].forEach((S, i) => assert.equal(S.socket.log.slice(froms[i]).filter(([n]) => n === "socket:pong").length, 0));
  } finally {
    p.close();
  }
});

test("socket:ping without a payload or with {} is answered", async () => {
  const p = await pair();
  try {
    for (const payload of [undefined, {}]) {
      const r = await ack(p.A1.socket, "socket:ping", payload);
      assert.ok(!r.error, JSON.stringify(r));
      assert.equal(typeof r.serverTime, "number");
      assert.ok(r.clientTime === null || r.clientTime === undefined);
    }
  } finally {
    p.close();
  }
});
