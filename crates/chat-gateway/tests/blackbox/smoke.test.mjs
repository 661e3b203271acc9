// Smoke: a message goes from one user to the other. The full suite lives beside this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { user, conversation, connect, ack, waitFor, message } from "./lib.mjs";

test("a message sent by one user reaches the other", async () => {
  const a = user("ada"), b = user("bob");
  const c = await conversation(a, b);
  const A = await connect(a.token, { deviceId: "a1" });
  const B = await connect(b.token, { deviceId: "b1" });
  try {
    const m = message(c, "hi bob");
    const delivered = await ack(A.socket, "message:send", m);
    assert.equal(delivered.serverSequence, 1);
    const received = await waitFor(B.socket, "message:received", (p) => p.messageId === m.messageId);
    assert.equal(received.content, "hi bob");
  } finally {
    A.socket.close();
    B.socket.close();
  }
});
