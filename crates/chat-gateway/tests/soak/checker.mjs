// The soak test's checker: a pure function over what the clients recorded and what the server
// holds at the end (REST history and chat lists). Each check is a count that must be zero; each
// comes with a few examples that say which message, which device and what was seen.
//
// Input (plain JSON, so a report can be checked again offline with `--check <report.json>`):
// {
//   conversations: [{ conversationId, userIds: [a, b] }],
//   devices: [{
//     key, userId, deviceId, conversationId,
//     sent: [{ messageId, content, clientSequence }],        // in send order
//     acks: { messageId: [serverSequence…] },                 // every success ack received
//     refused: [{ messageId, code }],                         // permanent failure acks
//     got: { messageId: "live" | "pending" | "rest" | "hint" }, // how it first reached it
//                                                            // (hint: fetched after sync:hint)
//     sessions: [{ gen, greeting, greetedAt, lastSequences, pending: [seq…], hasMore,
//                  disconnectedAt, reason, cause }],           // for diagnosis only
//   }],
//   observedAt: { messageId: ms },   // earliest time any client saw the message (ack or event)
//   readMarkers: { userId: { conversationId: seq } },  // the highest read target the user sent
//   history: { conversationId: [Message] },            // REST, ascending
//   chatList: { userId: { conversationId: unreadCount } },
//   slow: [{ device, messageId, ms, answer, … }],      // chaos mode: answers slower than 3 s
//   recoveries: [{ fault, ms }], recoveryMs,           // chaos mode: first success after a heal
// }

/** The checks, in report order: [name, what a non-zero count means]. */
export const CHECKS = [
  ["ackedMissing", "acked messages missing from history"],
  ["storedTwice", "messages stored twice (same messageId or same content)"],
  ["unknownInHistory", "messages in history that no client sent (or not as sent)"],
  ["sequenceGaps", "serverSequence not exactly 1..n in a conversation"],
  ["deviceOrder", "messages of one device stored out of its send order"],
  ["missedByDevice", "messages that reached a device neither live nor in pendingMessages"],
  ["unreadMismatch", "chat-list unread counts that differ from history and read markers"],
  ["ackMismatch", "acks that disagree with each other or with history"],
  ["unacked", "messages never acknowledged by the end"],
  ["refused", "sends refused for good (conflict, validation, …)"],
  ["readByMismatch", "history readBy that disagrees with the read markers"],
  ["slowAnswers", "sends answered slower than 3 s (or never) by a node no fault stopped"],
  ["slowRecovery", "faults after which no send succeeded within 5 s"],
];

const MAX_EXAMPLES = 8;

export function check(input) {
  const out = Object.fromEntries(CHECKS.map(([name]) => [name, { count: 0, examples: [] }]));
  const fail = (name, example) => {
    out[name].count += 1;
    if (out[name].examples.length < MAX_EXAMPLES) out[name].examples.push(example);
  };
  const info = { coveredByRestAfterHasMore: 0, missedByDeviceAfter: {} };

  // What the clients sent: messageId -> { device, index, content, conversationId, senderId }.
  const sent = new Map();
  for (const d of input.devices) {
    d.sent.forEach((m, index) => sent.set(m.messageId, { ...m, index, device: d, conversationId: d.conversationId, senderId: d.userId }));
  }

  // History, indexed.
  const stored = new Map(); // messageId -> [Message]
  for (const c of input.conversations) {
    const items = input.history[c.conversationId] ?? [];
    const byId = new Map(), byContent = new Map();
    for (const m of items) {
      if (!stored.has(m.messageId)) stored.set(m.messageId, []);
      stored.get(m.messageId).push(m);
      if (!byId.has(m.messageId)) byId.set(m.messageId, []);
      byId.get(m.messageId).push(m);
      if (!byContent.has(m.content)) byContent.set(m.content, []);
      byContent.get(m.content).push(m);
    }
    // (2) stored twice: one messageId twice, or one content under several ids
    for (const [id, list] of byId) {
      if (list.length > 1) fail("storedTwice", { messageId: id, conversationId: c.conversationId, sequences: list.map((m) => m.serverSequence) });
    }
    for (const [content, list] of byContent) {
      if (new Set(list.map((m) => m.messageId)).size > 1) {
        fail("storedTwice", { content, conversationId: c.conversationId, messageIds: list.map((m) => m.messageId), sequences: list.map((m) => m.serverSequence) });
      }
    }
    // (4) gaps: exactly 1..n, ascending
    const seqs = items.map((m) => m.serverSequence);
    const problems = [];
    seqs.forEach((s, i) => { if (s !== i + 1) problems.push({ position: i, expected: i + 1, found: s }); });
    if (problems.length) fail("sequenceGaps", { conversationId: c.conversationId, count: seqs.length, first: problems.slice(0, 5) });
    // (3) unknown, or not as sent
    for (const m of items) {
      const s = sent.get(m.messageId);
      if (!s) fail("unknownInHistory", { messageId: m.messageId, conversationId: m.conversationId, serverSequence: m.serverSequence, content: m.content });
      else if (s.conversationId !== m.conversationId || s.senderId !== m.senderId || s.content !== m.content) {
        fail("unknownInHistory", { messageId: m.messageId, why: "not as sent", sent: { conversationId: s.conversationId, senderId: s.senderId, content: s.content }, stored: { conversationId: m.conversationId, senderId: m.senderId, content: m.content } });
      }
    }
  }

  for (const d of input.devices) {
    const ackedIds = Object.keys(d.acks ?? {});
    for (const id of ackedIds) {
      const seqs = d.acks[id];
      const list = stored.get(id);
      // (1) acked but missing
      if (!list) { fail("ackedMissing", { device: d.key, messageId: id, ackedSequences: seqs }); continue; }
      // acks agree with each other and with history
      if (new Set(seqs).size > 1 || !list.some((m) => m.serverSequence === seqs[0])) {
        fail("ackMismatch", { device: d.key, messageId: id, ackedSequences: seqs, storedSequences: list.map((m) => m.serverSequence) });
      }
    }
    // unacked, refused
    const refused = new Set((d.refused ?? []).map((r) => r.messageId));
    for (const r of d.refused ?? []) fail("refused", { device: d.key, ...r });
    for (const m of d.sent) {
      if (!d.acks?.[m.messageId] && !refused.has(m.messageId)) {
        fail("unacked", { device: d.key, messageId: m.messageId, clientSequence: m.clientSequence, stored: stored.has(m.messageId) });
      }
    }
    // (5) the device's messages, in send order, have increasing stored sequences
    let prev = null;
    for (const m of d.sent) {
      const s = stored.get(m.messageId)?.[0];
      if (!s) continue;
      if (prev && s.serverSequence <= prev.seq) {
        fail("deviceOrder", { device: d.key, earlier: { messageId: prev.id, clientSequence: prev.cs, serverSequence: prev.seq }, later: { messageId: m.messageId, clientSequence: m.clientSequence, serverSequence: s.serverSequence } });
      }
      prev = { id: m.messageId, cs: m.clientSequence, seq: s.serverSequence };
    }
    // (6) every message of its conversation that another device sent reached this device
    const own = new Set(d.sent.map((m) => m.messageId));
    for (const m of input.history[d.conversationId] ?? []) {
      if (own.has(m.messageId)) continue;
      const via = d.got?.[m.messageId];
      if (via === "live" || via === "pending" || via === "hint") continue;
      if (via === "rest") { info.coveredByRestAfterHasMore += 1; continue; }
      const why = diagnoseMiss(input, d, m, sent.get(m.messageId));
      const drop = (why.before ?? why.session)?.cause?.split(":")[0] ?? "no drop";
      const phase = why.session ? "in flight at the drop" : "after the drop";
      const key = `${why.category}, ${phase} (${drop})`;
      info.missedByDeviceAfter[key] = (info.missedByDeviceAfter[key] ?? 0) + 1;
      fail("missedByDevice", why);
    }
  }

  // (7) unread counts, and readBy
  for (const c of input.conversations) {
    const items = input.history[c.conversationId] ?? [];
    for (const u of c.userIds) {
      const marker = input.readMarkers?.[u]?.[c.conversationId] ?? 0;
      const expected = items.filter((m) => m.senderId !== u && m.serverSequence > marker).length;
      const actual = input.chatList?.[u]?.[c.conversationId];
      if (actual !== expected) fail("unreadMismatch", { userId: u, conversationId: c.conversationId, readMarker: marker, expected, chatList: actual ?? null });
      for (const m of items) {
        if (m.senderId === u) continue;
        const want = m.serverSequence <= marker;
        const has = (m.readBy ?? []).includes(u);
        if (want !== has) fail("readByMismatch", { userId: u, conversationId: c.conversationId, serverSequence: m.serverSequence, readMarker: marker, readBy: m.readBy });
      }
    }
  }
  // chaos mode: every answer within 3 s, every recovery within 5 s
  for (const x of input.slow ?? []) fail("slowAnswers", x);
  for (const r of input.recoveries ?? []) {
    if (r.ms === null || r.ms > (input.recoveryMs ?? 5000)) fail("slowRecovery", r);
  }
  return { checks: out, info };
}

/**
 * Where the device stood when `m` was committed (as far as the clients can tell: the first time
 * any client saw it), and what the following (re)connection said. `category` names that
 * reconnection: `resumeWithoutLastSequences`, `resumeWithLastSequences`, `notResumed` (a fresh
 * `connected` for a known deviceId), or `noReconnect` (lost on a connection that stayed up).
 */
function diagnoseMiss(input, d, m, s) {
  const t = input.observedAt?.[m.messageId];
  const ex = { device: d.key, messageId: m.messageId, serverSequence: m.serverSequence, sentBy: s?.device?.key ?? null, observedAt: t ?? null };
  const sessions = (d.sessions ?? []).filter((x) => x.greetedAt !== undefined);
  const category = (next) => !next ? "noReconnect"
    : next.greeting !== "reconnected" ? "notResumed"
      : next.lastSequences ? "resumeWithLastSequences" : "resumeWithoutLastSequences";
  if (t === undefined) return { ...ex, category: "neverObserved", where: "never observed by any client" };
  // the session live at t, or the one that followed
  const i = sessions.findIndex((x) => x.greetedAt <= t && (x.disconnectedAt === undefined || x.disconnectedAt >= t));
  if (i >= 0) {
    const next = sessions[i + 1];
    return { ...ex, category: category(next), where: "device connected (client view) when first observed", session: brief(sessions[i]), next: next ? brief(next) : null };
  }
  const j = sessions.findIndex((x) => x.greetedAt > t);
  const next = j >= 0 ? sessions[j] : undefined;
  return { ...ex, category: category(next), where: "device away when first observed", before: j > 0 ? brief(sessions[j - 1]) : null, resumedBy: next ? brief(next) : null };
}

function brief(x) {
  const p = x.pending ?? [];
  return {
    gen: x.gen, greeting: x.greeting, greetedAt: x.greetedAt, lastSequences: x.lastSequences ?? null,
    pending: p.length ? `${p.length} [${p[0]}..${p[p.length - 1]}]` : "0", hasMore: x.hasMore ?? null,
    disconnectedAt: x.disconnectedAt ?? null, reason: x.reason ?? null, cause: x.cause ?? null,
  };
}

/** Prints the checks; returns the number of failed checks (those in `allow` excepted). */
export function printChecks(result, log = console.log, allow = []) {
  let failed = 0;
  for (const [name, what] of CHECKS) {
    const r = result.checks[name];
    const allowed = r.count !== 0 && allow.includes(name);
    log(`  ${r.count === 0 ? "ok     " : allowed ? "ALLOWED" : "FAIL   "} ${name.padEnd(18)} ${String(r.count).padStart(6)}  ${what}`);
    if (r.count) {
      if (!allowed) failed += 1;
      for (const e of r.examples) log(`         ${JSON.stringify(e)}`);
    }
  }
  for (const [k, v] of Object.entries(result.info)) log(`  info ${k.padEnd(26)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return failed;
}

// ---------------------------------------------------------------------------------------------
// Self-test: a clean synthetic history passes; each kind of fault is caught by its check.

export function selfTest(log = console.log) {
  const base = synthetic();
  const clean = check(base);
  const bad = [];
  for (const [name] of CHECKS) if (clean.checks[name].count !== 0) bad.push(`clean history fails ${name}: ${JSON.stringify(clean.checks[name].examples)}`);
  const faults = [
    ["ackedMissing", "an acked message lost (history renumbered, so no gap)", (x) => {
      const h = x.history.c1; h.splice(4, 1); h.forEach((m, i) => { m.serverSequence = i + 1; });
    }],
    ["storedTwice", "the same messageId stored twice", (x) => { const h = x.history.c1; h.push({ ...h[2], serverSequence: h.length + 1 }); }],
    ["storedTwice", "the same content stored twice under two ids", (x) => { const h = x.history.c1; h[7].content = h[6].content; }],
    ["unknownInHistory", "a message no client sent", (x) => { const h = x.history.c1; h.push({ ...h[0], messageId: "m-unknown", content: "who?", serverSequence: h.length + 1 }); }],
    ["unknownInHistory", "content changed in storage", (x) => { x.history.c1[3].content = "tampered"; }],
    ["sequenceGaps", "a hole in serverSequence", (x) => { const h = x.history.c1; h[h.length - 1].serverSequence += 1; }],
    ["sequenceGaps", "a repeated serverSequence", (x) => { const h = x.history.c1; h[5].serverSequence = 5; }],
    ["deviceOrder", "two messages of one device swapped", (x) => {
      const h = x.history.c1; // device A1 sent m0 (seq 1) and m4 (seq 5): swap their places
      const i = h.findIndex((m) => m.messageId === "A1-0"), j = h.findIndex((m) => m.messageId === "A1-1");
      [h[i], h[j]] = [h[j], h[i]]; h[i].serverSequence = i + 1; h[j].serverSequence = j + 1;
      for (const d of x.devices) for (const id of Object.keys(d.acks)) d.acks[id] = [h.find((m) => m.messageId === id).serverSequence];
    }],
    ["missedByDevice", "a message that reached a device neither live nor pending", (x) => { delete x.devices[2].got["A1-1"]; }],
    ["unreadMismatch", "a chat-list unread count off by one", (x) => { x.chatList.ub.c1 += 1; }],
    ["unreadMismatch", "a read marker the server did not keep", (x) => { x.readMarkers.ua.c1 = 1; }],
    ["ackMismatch", "an ack with another sequence than stored", (x) => { x.devices[0].acks["A1-0"] = [1, 3]; }],
    ["unacked", "a message never acked", (x) => { delete x.devices[1].acks["A2-2"]; }],
    ["refused", "a send refused with conflict", (x) => { x.devices[3].refused.push({ messageId: "B2-0", code: "conflict" }); }],
    ["slowAnswers", "a send answered after 4 s", (x) => { x.slow = [{ device: "A1", messageId: "A1-0", ms: 4000, answer: "unavailable" }]; }],
    ["slowRecovery", "no success within 5 s of a heal", (x) => { x.recoveries = [{ fault: "postgres-kill", ms: 7000 }]; }],
    ["readByMismatch", "readBy missing a reader", (x) => { const m = x.history.c1.find((y) => y.senderId === "ua"); m.readBy = []; }],
  ];
  for (const [name, what, mutate] of faults) {
    const x = structuredClone(base);
    mutate(x);
    const r = check(x);
    const caught = r.checks[name].count > 0;
    log(`  self-test ${caught ? "caught" : "MISSED"} ${name.padEnd(18)} ${what}`);
    if (!caught) bad.push(`${name} did not catch: ${what}`);
  }
  // hasMore: a message not received but covered by REST after `hasMore: true` is not a miss
  {
    const x = structuredClone(base);
    x.devices[2].got["A1-1"] = "rest";
    const r = check(x);
    const ok = r.checks.missedByDevice.count === 0 && r.info.coveredByRestAfterHasMore === 1;
    log(`  self-test ${ok ? "caught" : "MISSED"} ${"hasMore".padEnd(18)} a message paged from REST after hasMore is counted apart, not failed`);
    if (!ok) bad.push("hasMore coverage");
  }
  return bad;
}

/** One conversation c1 of users ua (devices A1, A2) and ub (B1, B2), 3 messages per device. */
function synthetic() {
  const devs = [["A1", "ua"], ["A2", "ua"], ["B1", "ub"], ["B2", "ub"]];
  const devices = devs.map(([key, userId]) => ({
    key, userId, deviceId: `${key}-dev`, conversationId: "c1",
    sent: [0, 1, 2].map((k) => ({ messageId: `${key}-${k}`, content: `${key} #${k}`, clientSequence: k + 1 })),
    acks: {}, refused: [], got: {}, sessions: [{ gen: 1, greeting: "connected", greetedAt: 0 }],
  }));
  // interleaved commit order: A1-0, A2-0, B1-0, B2-0, A1-1, …
  const history = { c1: [] };
  const observedAt = {};
  for (let k = 0; k < 3; k++) {
    for (const d of devices) {
      const m = d.sent[k];
      const seq = history.c1.length + 1;
      history.c1.push({ messageId: m.messageId, conversationId: "c1", senderId: d.userId, senderName: d.userId, content: m.content, timestamp: "", serverSequence: seq, readBy: [] });
      d.acks[m.messageId] = [seq];
      observedAt[m.messageId] = seq * 10;
    }
  }
  for (const d of devices) for (const m of history.c1) if (!d.sent.some((s) => s.messageId === m.messageId)) d.got[m.messageId] = m.serverSequence % 2 ? "live" : "pending";
  // ua read up to 6, ub up to 9
  const readMarkers = { ua: { c1: 6 }, ub: { c1: 9 } };
  for (const m of history.c1) {
    const other = m.senderId === "ua" ? "ub" : "ua";
    if (m.serverSequence <= readMarkers[other].c1) m.readBy = [other];
  }
  const unread = (u) => history.c1.filter((m) => m.senderId !== u && m.serverSequence > readMarkers[u].c1).length;
  return {
    conversations: [{ conversationId: "c1", userIds: ["ua", "ub"] }],
    devices, observedAt, readMarkers, history,
    chatList: { ua: { c1: unread("ua") }, ub: { c1: unread("ub") } },
  };
}
