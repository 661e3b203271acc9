// Malformed payloads (contract 4 "every event that carries an ack gets exactly one answer,
// malformed ones included", 4.1 content rules, binary attachments refused).
// Covers: for `message:send` — missing fields, wrong types, non-UUID ids, empty / whitespace-only /
// 4001-char (and 4001-emoji) content, control characters (\u0000, \u001b, \u007f, \r; and C1 \u0085, \u009b)
// while \n and \t pass, bad optional fields, a bare string, null, an array, a number, a boolean,
// no payload at all, binary attachments, a non-string clientDeviceId — each gets exactly one ack (counted on the wire) with
// `validation`, the `error:validation` ErrorPayload (with conversationId/messageId when they were
// given), `message:failed`, and changes nothing (no broadcast, history empty, no sequence used,
// no rate-limit quota used). The same for `message:read`, `typing:start`/`typing:stop`,
// `presence:update`, `block:user`/`unblock:user`, `mute:conversation`/`unmute:conversation`
// (including blocking yourself or a non-participant) and `socket:ping`.
// (`auth` malformed payloads: auth.test.mjs.)
// Error codes not provoked anywhere in this suite: `unavailable` for "storage down" and `failed`
// ("anything else") need a broken database or an internal fault and cannot be provoked black-box;
// `unavailable` is reached only through the shutdown drain (shutdown.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  user, uuid, conversation, connectCounting, ack, waitFor, message, history, closeAll, expectFailure,
  sleep, rest,
} from "./lib.mjs";

async function setup() {
  const a = user("val"), b = user("peer");
  const c = await conversation(a, b);
  const A = await connectCounting(a.token, { deviceId: uuid() });
  const B = await connectCounting(b.token, { deviceId: uuid() });
  return { a, b, c, A, B };
}

/** Every ack id the socket got was answered exactly once. */
async function assertOneAckEach(socket, expected) {
  await sleep(300);
  const counts = [...socket.acks.values()];
  assert.equal(counts.length, expected, `acks received for ${expected} emits`);
  assert.ok(counts.every((n) => n === 1), `an ack came more than once: ${JSON.stringify([...socket.acks])}`);
}

test("message:send: every malformed payload gets one validation ack, error:validation, message:failed, and changes nothing", async () => {
  const { a, b, c, A, B } = await setup();
  try {
    const base = message(c, "ok");
    const without = (k) => { const x = { ...message(c, "ok") }; delete x[k]; return x; };
    const withContent = (content) => ({ ...message(c), content });
    const cases = [
      ["no payload", undefined],
      ["null", null],
      ["bare string", "hello"],
      ["number", 42],
      ["boolean", true],
      ["array", [base]],
      ["empty object", {}],
      ["missing conversationId", without("conversationId")],
      ["missing content", without("content")],
      ["missing messageId", without("messageId")],
      ["conversationId number", { ...message(c), conversationId: 123 }],
      ["conversationId null", { ...message(c), conversationId: null }],
      ["conversationId not a UUID", { ...message(c), conversationId: "not-a-uuid" }],
      ["conversationId empty", { ...message(c), conversationId: "" }],
      ["messageId not a UUID", { ...message(c), messageId: "abc" }],
      ["messageId number", { ...message(c), messageId: 42 }],
      ["messageId null", { ...message(c), messageId: null }],
      ["content number", withContent(42)],
      ["content null", withContent(null)],
      ["content array", withContent(["hi"])],
      ["content object", withContent({ text: "hi" })],
      ["content empty", withContent("")],
      ["content spaces", withContent("     ")],
      ["content whitespace", withContent("\n\t  \n\t")],
      ["content 4001 chars", withContent("x".repeat(4001))],
      ["content 4001 emoji", withContent("😀".repeat(4001))],
      ["content \\u0000", withContent("nul\u0000here")],
      ["content \\u001b", withContent("\u001b[31mred")],
      ["content \\u007f", withContent("del\u007f")],
      ["content \\r", withContent("cr\rlf")],
      ["clientTimestamp string", { ...message(c), clientTimestamp: "yesterday" }],
      ["clientSequence string", { ...message(c), clientSequence: "3" }],
      ["clientSequence negative", { ...message(c), clientSequence: -1 }],
      ["clientSequence fractional", { ...message(c), clientSequence: 1.5 }],
      ["binary content", withContent(Buffer.from("hi"))],
      ["binary payload", Buffer.from(JSON.stringify(base))],
    ];
    const bFrom = B.socket.log.length;
    const failures = [];
    for (const [label, payload] of cases) {
      await expectFailure(A.socket, "message:send", payload, "validation", assert).catch((e) => failures.push(`${label}: ${e.message}`));
    }
    assert.deepEqual(failures, []);
    await assertOneAckEach(A.socket, cases.length);
    // ids named by a well-formed but invalid payload are carried by the error event and message:failed
    const m = withContent("");
    const f = await expectFailure(A.socket, "message:send", m, "validation", assert);
    assert.equal(f.error.conversationId, c);
    assert.equal(f.error.messageId, m.messageId);
    assert.equal(f.failed.messageId, m.messageId);
    assert.equal(f.failed.conversationId, c);
    // nothing changed
    assert.equal(B.socket.log.slice(bFrom).filter(([n]) => n === "message:received" || n === "unread_count:updated").length, 0);
    assert.deepEqual((await history(a, c)).body.items, []);
    const list = await rest("GET", "/conversations/chat-list", { token: b.token });
    assert.equal(list.body.items[0].unreadCount, 0);
    assert.equal(list.body.items[0].lastMessage, null);
    // no sequence and no send quota (10/min) consumed: 10 valid sends still pass, numbered from 1
    const seqs = [];
    for (let i = 0; i < 10; i++) {
      const d = await ack(A.socket, "message:send", message(c, i === 0 ? "tab\tand\nnewline" : `v${i}`));
      assert.ok(!d.error, JSON.stringify(d));
      seqs.push(d.serverSequence);
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    closeAll(A, B);
  }
});

test("other events: malformed payloads get one validation ack and error:validation, and change nothing", async () => {
  const { a, b, c, A, B } = await setup();
  const stranger = user("stranger");
  try {
    await ack(B.socket, "message:send", message(c, "to be read"));
    await waitFor(A.socket, "unread_count:updated", (x) => x.conversationId === c && x.unreadCount === 1);
    const cases = [
      ...[undefined, null, "str", 5, [], {},
        { conversationId: c },
        { lastReadSequence: 1 },
        { conversationId: "nope", lastReadSequence: 1 },
        { conversationId: c, lastReadSequence: "1" },
        { conversationId: c, lastReadSequence: -1 },
        { conversationId: c, lastReadSequence: 1.5 },
        { conversationId: c, lastReadAt: "yesterday" },
        { conversationId: c, lastReadAt: 5 },
        { conversationId: c, messageIds: "x" },
        { conversationId: c, messageIds: ["not-a-uuid"] },
        { conversationId: c, messageIds: [5] },
      ].map((p) => ["message:read", p]),
      ...["typing:start", "typing:stop"].flatMap((ev) => [undefined, null, "str", 5, {}, { conversationId: 5 }, { conversationId: "nope" }, Buffer.from("x")].map((p) => [ev, p])),
      ...[undefined, null, "away", {}, { status: "busy" }, { status: "offline" }, { status: 5 }, { status: null }].map((p) => ["presence:update", p]),
      ...["block:user", "unblock:user"].flatMap((ev) => [undefined, null, {}, { conversationId: c },
        { conversationId: c, blockedUserId: "nope" },
        { conversationId: "nope", blockedUserId: b.id },
        { conversationId: c, blockedUserId: a.id },
        { conversationId: c, blockedUserId: stranger.id },
      ].map((p) => [ev, p])),
      ...["mute:conversation", "unmute:conversation"].flatMap((ev) => [undefined, null, {}, { conversationId: "nope" }, { conversationId: 7 }].map((p) => [ev, p])),
      ["mute:conversation", { conversationId: c, mutedUntil: "tomorrow" }],
      ["mute:conversation", { conversationId: c, mutedUntil: 5 }],
      ["socket:ping", "str"],
      ["socket:ping", [1]],
    ];
    const bFrom = B.socket.log.length;
    const failures = [];
    for (const [ev, payload] of cases) {
      await expectFailure(A.socket, ev, payload, "validation", assert).catch((e) => failures.push(`${ev} ${JSON.stringify(payload)}: ${e.message}`));
    }
    assert.deepEqual(failures, []);
    await assertOneAckEach(A.socket, cases.length);
    // nothing changed
    const seen = B.socket.log.slice(bFrom).map(([n]) => n);
    for (const ev of ["typing:indicator", "presence:changed", "read_receipt:received"]) assert.ok(!seen.includes(ev), `b saw ${ev}`);
    const aSeen = A.socket.log.map(([n]) => n);
    for (const ev of ["user:blocked", "user:unblocked", "conversation:muted", "conversation:unmuted"]) assert.ok(!aSeen.includes(ev), `a saw ${ev}`);
    assert.deepEqual((await rest("GET", "/users/me/blocks", { token: a.token })).body, []);
    assert.deepEqual((await rest("GET", "/users/me/mutes", { token: a.token })).body, []);
    const list = await rest("GET", "/conversations/chat-list", { token: a.token });
    assert.equal(list.body.items[0].unreadCount, 1, "the read marker did not move");
    assert.equal(list.body.items[0].muted, false);
    assert.equal(list.body.items[0].blockedByMe, false);
    // the well-formed versions still work
    assert.equal((await ack(A.socket, "socket:ping")).clientTime ?? null, null);
    assert.equal((await ack(A.socket, "message:read", { conversationId: c, lastReadSequence: 1 })).newUnreadCount, 0);
  } finally {
    closeAll(A, B);
  }
});

test("message:send: C1 control characters (U+0080..U+009F) are control characters too", async () => {
  const { a, c, A, B } = await setup();
  try {
    const failures = [];
    for (const ch of ["\u0085", "\u009b", "\u0080"]) {
      await expectFailure(A.socket, "message:send", message(c, `x${ch}y`), "validation", assert)
        .catch((e) => failures.push(`U+${ch.codePointAt(0).toString(16)}: ${e.message}`));
    }
    assert.deepEqual(failures, []);
    assert.deepEqual((await history(a, c)).body.items, []);
  } finally {
    closeAll(A, B);
  }
});

test("message:send: a wrongly typed optional clientDeviceId is a validation failure too", async () => {
  const { a, c, A, B } = await setup();
  try {
    const failures = [];
    for (const v of [5, { id: "x" }, true]) {
      await expectFailure(A.socket, "message:send", message(c, "hi", { clientDeviceId: v }), "validation", assert)
        .catch((e) => failures.push(`${JSON.stringify(v)}: ${e.message}`));
    }
    assert.deepEqual(failures, []);
    assert.deepEqual((await history(a, c)).body.items, []);
  } finally {
    closeAll(A, B);
  }
});

test("message:send: a clientSequence above 2^63 - 1 is validation at once, not held and failed", async () => {
  const { a, c, A, B } = await setup();
  try {
    const started = Date.now();
    // 2^63 (exact as a double): one past what the store holds
    await expectFailure(A.socket, "message:send", message(c, "hi", { clientSequence: 2 ** 63 }), "validation", assert);
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    assert.deepEqual((await history(a, c)).body.items, []);
  } finally {
    closeAll(A, B);
  }
});
