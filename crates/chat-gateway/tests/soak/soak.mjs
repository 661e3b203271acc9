#!/usr/bin/env node
// Fault-injection soak of the chat gateway (issue 7): nothing acknowledged is lost, nothing is
// duplicated, no gap is hidden on resume.
//
// N one-to-one conversations, each user with two devices; every device sends M messages with
// acks (up to `window` outstanding, `clientSequence` 1..M), retrying the same messageId (and
// content, and clientSequence) until it is acknowledged. Meanwhile a chaos loop drops
// connections: a TCP proxy in front of each gateway cuts them mid-frame (right inside a send
// ack, so that the ack is lost after commit; inside any server frame; inside a client frame) or
// stalls them (the client side dies, the server side stays open and silent for a while), and
// devices disconnect cleanly. A dropped device reconnects with the same deviceId after a short
// pause, sending `auth.lastSequences` on some reconnects and not on others (always after its own
// clean disconnect, as a client that said goodbye knows where it stands). Everything is
// recorded; at the end the script waits for quiescence, reads every conversation's REST history
// and every user's chat list, and runs the checker (checker.mjs). Exit status 1 when a check is
// not zero.
//
// Reproducibility: every random choice (the chaos schedule — when, whom, how, where in a frame,
// how long — reconnect pauses, whether a reconnect sends lastSequences, which received messages
// are marked read, the final read markers) is a pure function of the seed and of the position
// in the run (drop number, device, reconnect number, message sequence), so a seed reproduces
// the same schedule (its digest is printed). Timing is the machine's: which frame a cut lands
// in, and so the exact interleaving, varies between runs of one seed.
//
//   node soak.mjs --urls http://127.0.0.1:3000[,http://…] --secret S [--seed 1] [--pairs 6]
//                 [--per-device 30 | --messages 20000] [--drops 10] [--window 3]
//                 [--read-probability 0.15] [--last-sequences-probability 0.5]
//                 [--stall-ms 1500] [--ack-timeout-ms 3000] [--deadline-ms 120000]
//                 [--kinds ack,down,up,stall,client] [--report out.json] [--allow check,…]
//                 [--chaos] [--interval-ms 0] [--slow-ms 3000] [--plain 0]
//   node soak.mjs --self-test          the checker against synthetic histories with faults
//   node soak.mjs --check out.json     the checker again over a report's recorded input
//
// Every option can also come from the environment: CHAT_SOAK_<OPTION> (CHAT_SOAK_SEED,
// CHAT_SOAK_MESSAGES, CHAT_SOAK_DROPS, …); the URL from CHAT_URL and the secret from
// CHAT_SECRET as in the black-box suite. Devices are spread over the URLs round-robin.
// `--allow` names checks that are printed but do not fail the run (for working on a fix while
// the others stay enforced); CI sets none.
//
// `--chaos` (the chaos suite, tests/chaos.rs): a harness breaks the gateway's dependencies and
// nodes while the load runs, and says so on this script's stdin, one line each:
// `fault <name> <node indexes, comma-separated, or ->` when a fault begins, `heal <name>` when
// it is repaired, `end` when the last fault is over (the run waits for it before checking).
// In this mode a device also behaves as a client that must not hang: an answer slower than
// `--slow-ms` (or none) on a connection that stays up, to a node no fault stopped, counts in
// `slowAnswers`, and the device moves on to the next gateway; a connect error moves it too;
// `sync:hint` makes it fetch history after what it has (what it gets counts as received, `hint`);
// the first acknowledged send after each `heal` must come within 5 s (`slowRecovery`).
// `--interval-ms` paces each device (a pause after each acknowledged message) so that the load
// lasts through the faults.
import { createHmac, randomUUID, createHash } from "node:crypto";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { check, printChecks, selfTest } from "./checker.mjs";
import { Proxy, CUTS } from "./proxy.mjs";

// ---------------------------------------------------------------------------------------------
// Options

function options(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) args[a.slice(2)] = argv[++i];
    else args[a.slice(2)] = "true";
  }
  const get = (name, fallback) => {
    const env = `CHAT_SOAK_${name.toUpperCase().replaceAll("-", "_")}`;
    return args[name] ?? process.env[env] ?? fallback;
  };
  const num = (name, fallback) => {
    const v = Number(get(name, fallback));
    if (!Number.isFinite(v)) throw new Error(`--${name}: not a number`);
    return v;
  };
  const o = {
    selfTest: args["self-test"] === "true",
    check: args.check,
    urls: String(get("urls", process.env.CHAT_URL ?? "http://127.0.0.1:3000")).split(",").map((s) => s.trim()).filter(Boolean),
    secret: get("secret", process.env.CHAT_SECRET ?? "dev-secret-change-me"),
    seed: num("seed", 1),
    pairs: num("pairs", 6),
    perDevice: num("per-device", 30),
    drops: num("drops", 10),
    window: num("window", 3),
    readProbability: num("read-probability", 0.15),
    lastSequencesProbability: num("last-sequences-probability", 0.5),
    // the share of devices that never send lastSequences, not even after their own goodbye
    // (what a plain socket.io-client does)
    plain: num("plain", 0),
    stallMs: num("stall-ms", 1500),
    ackTimeoutMs: num("ack-timeout-ms", 3000),
    deadlineMs: num("deadline-ms", 120000),
    settleMs: num("settle-ms", 3000),
    chaos: get("chaos", "false") === "true",
    intervalMs: num("interval-ms", 0),
    slowMs: num("slow-ms", 3000),
    recoveryMs: num("recovery-ms", 5000),
    report: get("report", undefined),
    // drop kinds to use (default all): ack, down, up, stall, client
    kinds: String(get("kinds", "")).split(",").map((x) => x.trim()).filter(Boolean),
    // checks reported but not failed (while a known server bug is being fixed), comma-separated
    allow: String(get("allow", "")).split(",").map((x) => x.trim()).filter(Boolean),
  };
  const total = get("messages", undefined);
  if (total !== undefined) o.perDevice = Math.max(1, Math.ceil(Number(total) / (o.pairs * 4)));
  return o;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness: a value in [0, 1) for (seed, …where in the run).

function xmur3(str) {
  let h = 1779033703 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^= h >>> 16) >>> 0;
}

function mulberry32(a) {
  a = (a + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const seeded = (seed) => (...where) => mulberry32(xmur3(`${seed}|${where.join("|")}`));

// ---------------------------------------------------------------------------------------------
// Tokens and REST

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function token(secret, sub, name) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ sub, name, iat: now, exp: now + 86400 })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

async function rest(base, method, path, t, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${t}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : null;
      if (res.status === 503 && attempt < 20) { await sleep(100); continue; }
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return parsed;
    } catch (e) {
      if (attempt >= 20 || /: \d{3} /.test(e.message)) throw e;
      await sleep(100);
    }
  }
}

async function fullHistory(base, t, conversationId) {
  const items = [];
  let after = 0;
  for (;;) {
    const page = await rest(base, "GET", `/conversations/${conversationId}/messages?afterSequence=${after}&limit=200`, t);
    items.push(...page.items);
    if (!page.hasMore || page.items.length === 0) return items;
    after = page.items[page.items.length - 1].serverSequence;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(pred, ms, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(step);
  }
  return pred();
}

// ---------------------------------------------------------------------------------------------
// A device

class Device {
  constructor(run, idx, user, conversationId, proxies) {
    this.run = run;
    this.idx = idx;
    this.user = user;
    this.conversationId = conversationId;
    this.proxies = proxies;
    this.node = idx % proxies.length;
    this.plain = run.rand("plain", idx) < run.o.plain;
    this.deviceId = randomUUID();
    this.key = `p${user.pair}/${user.side}/d${idx % 2 + 1}`;
    const M = run.o.perDevice;
    this.msgs = Array.from({ length: M }, (_, k) => ({
      messageId: randomUUID(),
      content: `soak s${run.o.seed} ${this.key} #${k + 1}`,
      clientSequence: k + 1,
      attempts: 0,
      acked: false,
      refused: null,
    }));
    this.gen = 0;
    this.socket = null;
    this.greeted = false;
    this.inflight = new Map(); // messageId -> gen it was emitted on
    this.sessions = [];
    this.got = {};
    this.acks = {};
    this.refused = [];
    this.seen = new Set();
    this.contig = 0;
    this.top = 0;
  }

  get proxy() {
    return this.proxies[this.node];
  }

  /** Chaos mode: the next connection goes to the next gateway (this one did not answer). */
  moveOn() {
    if (this.run.o.chaos) this.node = (this.node + 1) % this.proxies.length;
  }

  get session() {
    return this.sessions[this.sessions.length - 1];
  }

  finished() {
    return this.msgs.every((m) => m.acked || m.refused);
  }

  markSeen(seq) {
    this.seen.add(seq);
    if (seq > this.top) this.top = seq;
    while (this.seen.has(this.contig + 1)) this.contig += 1;
  }

  connect() {
    const { run } = this;
    const gen = ++this.gen;
    const auth = { token: this.user.token, deviceId: this.deviceId };
    let lastSequences = null;
    const goodbye = this.saidGoodbye;
    this.saidGoodbye = false;
    if (gen > 1 && !this.plain && (goodbye || run.rand("lastSequences", this.idx, gen) < run.o.lastSequencesProbability)) {
      lastSequences = { [this.conversationId]: this.contig };
      auth.lastSequences = lastSequences;
    }
    const session = { gen, startedAt: run.now(), lastSequences, node: this.node };
    this.sessions.push(session);
    const socket = run.io(this.proxy.url, {
      auth, query: { soakDevice: String(this.idx) }, transports: ["websocket"],
      reconnection: false, forceNew: true, timeout: 5000,
    });
    this.socket = socket;
    socket.on("message:received", (m) => this.received(m, "live"));
    socket.on("sync:hint", (h) => this.hinted(h, gen));
    const greet = (name) => async (hello) => {
      if (this.gen !== gen) return;
      session.greeting = name;
      session.greetedAt = run.now();
      if (name === "reconnected") {
        run.stats.resumes += 1;
        if (lastSequences) run.stats.resumesWithLastSequences += 1;
        session.pending = hello.pendingMessages.map((m) => m.serverSequence);
        session.hasMore = hello.hasMore;
        run.stats.pendingMessages += hello.pendingMessages.length;
        for (const m of hello.pendingMessages) this.received(m, "pending");
        if (hello.hasMore) await this.pageAfterHasMore(hello.pendingMessages);
      } else if (gen > 1) {
        run.stats.reconnectsNotResumed += 1;
      }
      await this.fillHoles();
      if (this.gen !== gen) return;
      this.greeted = true;
      this.pump();
    };
    socket.on("connected", greet("connected"));
    socket.on("reconnected", greet("reconnected"));
    socket.on("connect_error", (err) => {
      if (this.gen !== gen) return;
      run.stats.connectErrors += 1;
      session.error = err.message;
      session.disconnectedAt = run.now();
      socket.close();
      this.moveOn();
      this.reconnectLater(gen, 200);
    });
    socket.on("disconnect", (reason) => {
      if (this.gen !== gen || run.closing) return;
      run.stats.disconnects += 1;
      session.disconnectedAt = run.now();
      session.reason = reason;
      this.greeted = false;
      this.inflight.clear();
      socket.close();
      this.reconnectLater(gen, 10 + Math.floor(run.rand("pause", this.idx, gen) * 290));
    });
    if (gen > 1) run.stats.reconnects += 1;
  }

  reconnectLater(gen, ms) {
    setTimeout(() => {
      if (this.gen === gen && !this.run.closing) this.connect();
    }, ms);
  }

  /** `hasMore: true`: what a client does, page REST history after what it got. */
  async pageAfterHasMore(pending) {
    const { run } = this;
    run.stats.hasMore += 1;
    const mine = pending.filter((m) => m.conversationId === this.conversationId);
    const after = mine.length ? mine[mine.length - 1].serverSequence : this.contig;
    const items = await fullHistory(run.restUrl, this.user.token, this.conversationId).catch(() => []);
    for (const m of items) {
      if (m.serverSequence <= after) continue;
      if (!this.got[m.messageId]) { this.got[m.messageId] = "rest"; run.stats.restPaged += 1; }
      this.markSeen(m.serverSequence);
    }
  }

  /**
   * `sync:hint`: the node may have missed broadcasts; fetch history after what this device has
   * up to the head it names. Retries while the database is away (a hint is not sent twice).
   */
  async hinted(hint, gen) {
    const { run } = this;
    run.stats.syncHints += 1;
    const head = hint?.lastSequences?.[this.conversationId];
    if (typeof head !== "number" || head <= this.contig) return;
    const end = Date.now() + 15000;
    while (Date.now() < end && this.gen === gen) {
      const page = await rest(run.restUrl, "GET", `/conversations/${this.conversationId}/messages?afterSequence=${this.contig}&limit=200`, this.user.token).catch(() => null);
      if (page) {
        for (const m of page.items) {
          if (m.serverSequence > head) break;
          if (!this.got[m.messageId]) { this.got[m.messageId] = "hint"; run.stats.hintFetched += 1; }
          this.markSeen(m.serverSequence);
        }
        return;
      }
      await sleep(250);
    }
  }

  /**
   * A client that sees a hole in what it got (a message the server never delivered) reads it
   * from REST history, so that its next `lastSequences` is not stuck below the hole. The hole is
   * still a failure of check (6): what comes from here is not counted as received.
   */
  async fillHoles() {
    const { run } = this;
    const { top } = this;
    if (top <= this.contig) return;
    run.stats.holesFilled += 1;
    const page = await rest(run.restUrl, "GET", `/conversations/${this.conversationId}/messages?afterSequence=${this.contig}&limit=200`, this.user.token).catch(() => null);
    for (const m of page?.items ?? []) if (m.serverSequence <= top) this.markSeen(m.serverSequence);
  }

  received(m, via) {
    const { run } = this;
    run.observe(m.messageId);
    if (m.conversationId !== this.conversationId) { run.stats.foreignMessages += 1; return; }
    if (this.got[m.messageId]) run.stats.receivedTwice += 1;
    else this.got[m.messageId] = via;
    this.markSeen(m.serverSequence);
    // reads stop at a seeded point of the conversation, so that final unread counts vary
    const cutoff = Math.floor((0.2 + 0.7 * run.rand("readCutoff", this.user.pair, this.user.side)) * 4 * run.o.perDevice);
    if (via === "live" && m.senderId !== this.user.id && m.serverSequence <= cutoff && run.rand("read", this.idx, m.serverSequence) < run.o.readProbability) {
      this.read(m.serverSequence);
    }
  }

  read(seq) {
    const { run } = this;
    run.stats.readsSent += 1;
    run.readMarkers[this.user.id] = Math.max(run.readMarkers[this.user.id] ?? 0, seq);
    this.socket.timeout(run.o.ackTimeoutMs).emit("message:read", { conversationId: this.conversationId, lastReadSequence: seq }, (err, ack) => {
      if (err) return;
      if (ack?.error) run.count(run.stats.readErrors, ack.error.code);
      else run.stats.readsAcked += 1;
    });
  }

  /** Emits the next unacked messages, up to `window` outstanding, in send order. */
  pump() {
    if (!this.greeted || !this.run.sending) return;
    let outstanding = 0;
    for (const m of this.msgs) {
      if (m.acked || m.refused) continue;
      if (outstanding >= this.run.o.window) break;
      outstanding += 1;
      if (this.inflight.get(m.messageId) === this.gen) continue;
      this.emit(m);
    }
  }

  emit(m) {
    const { run } = this;
    const gen = this.gen;
    const node = this.node;
    const startedAt = run.now();
    this.inflight.set(m.messageId, gen);
    m.attempts += 1;
    run.stats.attempts += 1;
    if (m.attempts > 1) run.stats.retries += 1;
    const payload = {
      conversationId: this.conversationId, content: m.content, messageId: m.messageId,
      clientSequence: m.clientSequence, clientTimestamp: Date.now(),
    };
    const timeout = run.o.chaos ? run.o.slowMs + 1000 : run.o.ackTimeoutMs;
    this.socket.timeout(timeout).emit("message:send", payload, (err, ack) => {
      if (run.o.chaos) this.timed(m, gen, node, startedAt, err ? "none" : ack?.error?.code ?? "ok");
      if (err) {
        // no ack in time on a live connection: send the same messageId again
        if (this.gen === gen && this.greeted && !m.acked) {
          run.stats.ackTimeouts += 1;
          this.inflight.delete(m.messageId);
          setTimeout(() => this.pump(), 50);
        }
        return;
      }
      this.acked(m, ack, gen);
    });
  }

  /** Chaos mode: an answer slower than `slowMs` (or none) to a node no fault stopped is a failure. */
  timed(m, gen, node, startedAt, answer) {
    const { run } = this;
    const ms = run.now() - startedAt;
    if (answer === "ok" && run.healedAt !== undefined && startedAt >= run.healedAt && run.recovered === undefined) {
      run.recovered = run.now() - run.healedAt;
    }
    if (ms <= run.o.slowMs) return;
    if (this.gen !== gen || !this.greeted || run.nodeFaulted(node, startedAt)) { run.stats.slowExcused += 1; return; }
    run.slow.push({ device: this.key, messageId: m.messageId, node, at: startedAt, ms, answer, faults: run.activeFaults(startedAt) });
    if (answer === "none") {
      // a client that gets no answer gives up on this connection and tries another gateway
      this.moveOn();
      this.socket.disconnect();
    }
  }

  acked(m, ack, gen) {
    const { run } = this;
    if (ack?.error) {
      const code = ack.error.code;
      run.count(run.stats.errorAcks, code);
      if (["unavailable", "failed", "rate_limit_exceeded"].includes(code)) {
        if (this.gen === gen) this.inflight.delete(m.messageId);
        setTimeout(() => this.pump(), code === "rate_limit_exceeded" ? 1000 : 100);
      } else if (!m.acked) {
        m.refused = code;
        this.refused.push({ messageId: m.messageId, clientSequence: m.clientSequence, code, message: ack.error.message });
        this.pump();
      }
      return;
    }
    (this.acks[m.messageId] ??= []).push(ack.serverSequence);
    run.observe(m.messageId);
    this.markSeen(ack.serverSequence);
    if (ack.duplicate) run.stats.duplicateAcks += 1;
    if (!m.acked) {
      m.acked = true;
      run.stats.acked += 1;
      run.onAck();
    }
    if (this.gen === gen) this.inflight.delete(m.messageId);
    if (run.o.intervalMs > 0) setTimeout(() => this.pump(), run.o.intervalMs);
    else this.pump();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

/** Drop kinds and their weights: the proxy's cuts (see proxy.mjs) and clean client disconnects. */
const KINDS = [[CUTS.ack, 0.3], [CUTS.down, 0.15], [CUTS.up, 0.15], [CUTS.stall, 0.15], ["client", 0.25]];

function pickKind(r, only) {
  const kinds = only.length ? KINDS.filter(([k]) => only.includes(k)) : KINDS;
  const sum = kinds.reduce((n, [, w]) => n + w, 0);
  let acc = 0;
  for (const [k, w] of kinds) { acc += w / sum; if (r < acc) return k; }
  return kinds[kinds.length - 1][0];
}

class Run {
  constructor(o, io) {
    this.o = o;
    this.io = io;
    this.rand = seeded(o.seed);
    this.t0 = Date.now();
    this.restUrl = o.urls[0];
    this.observedAt = {};
    this.readMarkers = {};
    this.stats = {
      messages: 0, attempts: 0, retries: 0, acked: 0, duplicateAcks: 0, ackTimeouts: 0, errorAcks: {},
      dropsPlanned: 0, drops: 0, dropsByKind: {}, disconnects: 0, reconnects: 0, connectErrors: 0,
      resumes: 0, resumesWithLastSequences: 0, reconnectsNotResumed: 0, pendingMessages: 0, hasMore: 0,
      restPaged: 0, holesFilled: 0, receivedTwice: 0, foreignMessages: 0, readsSent: 0, readsAcked: 0, readErrors: {},
      syncHints: 0, hintFetched: 0, slowExcused: 0,
    };
    this.slow = [];
    this.faults = [];
    this.recoveries = [];
    this.ended = !o.chaos;
    this.ackedTotal = 0;
    this.sending = false;
    this.closing = false;
  }

  now() {
    return Date.now() - this.t0;
  }

  count(map, key) {
    map[key] = (map[key] ?? 0) + 1;
  }

  /** Whether a fault that stops or kills `node` overlapped the time since `from`. */
  nodeFaulted(node, from) {
    return this.faults.some((f) => f.nodes.includes(node) && (f.to === undefined || f.to >= from));
  }

  activeFaults(from) {
    return this.faults.filter((f) => f.to === undefined || f.to >= from).map((f) => f.name);
  }

  /** A line from the chaos harness (see the top of this file). */
  control(line) {
    const [what, name, nodes] = line.trim().split(/\s+/);
    if (what === "fault") {
      this.closeRecovery();
      this.faults.push({ name, from: this.now(), nodes: !nodes || nodes === "-" ? [] : nodes.split(",").map(Number) });
      console.log(`soak: fault ${name} at ${this.now()} ms`);
    } else if (what === "heal") {
      for (const f of this.faults) if (f.name === name && f.to === undefined) f.to = this.now();
      this.closeRecovery();
      this.healedAt = this.now();
      this.healed = name;
      this.recovered = undefined;
      console.log(`soak: healed ${name} at ${this.now()} ms`);
    } else if (what === "end") {
      this.closeRecovery();
      this.ended = true;
    }
  }

  /** Records how long the first success after the last heal took (or that none came). */
  closeRecovery() {
    if (this.healedAt === undefined) return;
    this.recoveries.push({ fault: this.healed, healedAt: this.healedAt, ms: this.recovered ?? null, within: this.now() - this.healedAt });
    this.healedAt = undefined;
  }

  observe(id) {
    if (this.observedAt[id] === undefined) this.observedAt[id] = this.now();
  }

  onAck() {
    this.ackedTotal += 1;
    this.chaos();
  }

  plan(total) {
    const { drops } = this.o;
    const D = this.devices.length;
    this.schedule = Array.from({ length: drops }, (_, i) => ({
      i,
      at: Math.max(1, Math.floor((total * (i + 1)) / (drops + 1))),
      victim: Math.floor(this.rand("victim", i) * D),
      kind: pickKind(this.rand("kind", i), this.o.kinds),
      offset: this.rand("offset", i),
      stallMs: 100 + Math.floor(this.rand("stall", i) * Math.max(0, this.o.stallMs - 100)),
    }));
    this.nextDrop = 0;
    this.stats.dropsPlanned = drops;
    return createHash("sha256").update(JSON.stringify(this.schedule)).digest("hex").slice(0, 16);
  }

  /** Executes the drops whose turn has come (by acked count). */
  chaos() {
    while (!this.closing && this.nextDrop < this.schedule.length && this.schedule[this.nextDrop].at <= this.ackedTotal) {
      if (!this.drop(this.schedule[this.nextDrop])) return; // nobody to drop now: next ack
      this.nextDrop += 1;
    }
  }

  drop(d) {
    const D = this.devices.length;
    for (let k = 0; k < D; k++) {
      const dev = this.devices[(d.victim + k) % D];
      if (!dev.greeted) continue;
      if (d.kind === "client") {
        dev.session.cause = "client disconnect";
        // A client that says goodbye knows where it stands and says so when it comes back: the
        // server's point after a goodbye is exact only up to messages crossing it on the wire
        // (docs/reliability.md).
        dev.saidGoodbye = true;
        dev.socket.disconnect();
      } else {
        const conns = dev.proxy.of(dev.idx);
        const c = conns[conns.length - 1];
        if (!c) continue;
        const offset = (n) => Math.min(n - 1, Math.floor(d.offset * n));
        if (!dev.proxy.arm(c, d.kind, { offset, waitMs: 1000, stallMs: d.stallMs })) continue;
      }
      this.stats.drops += 1;
      this.count(this.stats.dropsByKind, d.kind);
      return true;
    }
    return false;
  }

  onCut(conn, info) {
    const dev = this.devices?.[conn.dev];
    if (!dev) return;
    const s = dev.session;
    if (s && s.disconnectedAt === undefined) s.cause = `proxy ${info.kind}: ${info.where}${info.offset !== undefined ? ` at ${info.offset}/${info.of}` : ""}${info.stallMs ? ` ${info.stallMs} ms` : ""}`;
  }
}

async function soak(o) {
  const require = createRequire(new URL("../blackbox/package.json", import.meta.url));
  const { io } = require("socket.io-client");
  const run = new Run(o, io);
  const proxies = [];
  for (const url of o.urls) {
    const p = new Proxy(url, { onCut: (c, info) => run.onCut(c, info) });
    await p.listen();
    proxies.push(p);
  }

  // users, conversations, devices
  const users = [], conversations = [], devices = [];
  for (let pair = 0; pair < o.pairs; pair++) {
    const mk = (side) => {
      const id = randomUUID();
      const name = `soak-${o.seed}-${pair}${side}`;
      return { id, name, pair, side, token: token(o.secret, id, name) };
    };
    const a = mk("a"), b = mk("b");
    users.push(a, b);
    const conv = await rest(run.restUrl, "POST", "/conversations/create/one-to-one", a.token, { participantId: b.id });
    conversations.push({ conversationId: conv.conversationId, userIds: [a.id, b.id], users: [a, b] });
    for (const u of [a, b]) {
      for (let k = 0; k < 2; k++) {
        const idx = devices.length;
        devices.push(new Device(run, idx, u, conv.conversationId, proxies));
      }
    }
  }
  run.devices = devices;
  const total = devices.length * o.perDevice;
  run.stats.messages = total;
  const digest = run.plan(total);
  console.log(`soak: seed ${o.seed}, ${o.pairs} pairs x 2 users x 2 devices x ${o.perDevice} messages = ${total}, ${o.drops} drops, window ${o.window}, ${o.urls.length} gateway(s) ${o.urls.join(" ")}; schedule ${digest}`);

  // everyone online, then everyone sends
  for (const d of devices) d.connect();
  if (!(await until(() => devices.every((d) => d.greeted), 20000))) throw new Error("devices did not connect");
  if (o.chaos) {
    let buffered = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        run.control(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    process.stdin.on("end", () => { run.ended = true; });
  }
  const started = Date.now();
  console.log("soak: sending");
  run.sending = true;
  for (const d of devices) d.pump();
  const allAcked = await until(() => devices.every((d) => d.finished()), o.deadlineMs, 50);
  const sendingMs = Date.now() - started;
  if (!(await until(() => run.ended, o.deadlineMs, 50))) console.log("soak: the chaos harness never said `end`");
  if (o.chaos) process.stdin.pause();
  if (!allAcked) console.log(`soak: deadline (${o.deadlineMs} ms) passed with ${total - run.stats.acked} messages unacked`);

  // quiescence: no more chaos, stalls over, everyone back, everything delivered
  run.schedule.length = run.nextDrop;
  await until(() => proxies.every((p) => p.busy() === 0), o.stallMs + 5000);
  await until(() => devices.every((d) => d.greeted), 10000);
  const head = async (c) => {
    const page = await rest(run.restUrl, "GET", `/conversations/${c.conversationId}/messages?limit=1`, c.users[0].token);
    return page.items.length ? page.items[0].serverSequence : 0;
  };
  const heads = new Map();
  for (const c of conversations) heads.set(c.conversationId, await head(c));
  await until(() => devices.every((d) => d.contig >= heads.get(d.conversationId)), o.settleMs, 50);

  // final read markers: each user reads up to a seeded point at or above everything it read so
  // far, over REST, so that the marker the server must hold is known exactly
  for (const c of conversations) {
    for (const u of c.users) {
      const sofar = run.readMarkers[u.id] ?? 0;
      const h = heads.get(c.conversationId);
      const target = sofar + Math.floor(run.rand("finalRead", u.pair, u.side) * (h - sofar + 1));
      if (target > 0) {
        await rest(run.restUrl, "POST", `/conversations/${c.conversationId}/read`, u.token, { lastReadSequence: target });
        run.readMarkers[u.id] = target;
      }
    }
  }

  // the server's side of the story
  const history = {}, chatList = {};
  for (const c of conversations) history[c.conversationId] = await fullHistory(run.restUrl, c.users[0].token, c.conversationId);
  for (const u of users) {
    const list = await rest(run.restUrl, "GET", "/conversations/chat-list?limit=100", u.token);
    chatList[u.id] = Object.fromEntries(list.items.map((i) => [i.conversationId, i.unreadCount]));
  }
  run.closing = true;
  for (const d of devices) d.socket?.close();
  await Promise.all(proxies.map((p) => p.close()));

  const input = {
    conversations: conversations.map(({ conversationId, userIds }) => ({ conversationId, userIds })),
    devices: devices.map((d) => ({
      key: d.key, userId: d.user.id, deviceId: d.deviceId, conversationId: d.conversationId,
      sent: d.msgs.map(({ messageId, content, clientSequence }) => ({ messageId, content, clientSequence })),
      acks: d.acks, refused: d.refused, got: d.got, sessions: d.sessions,
    })),
    observedAt: run.observedAt,
    readMarkers: Object.fromEntries(conversations.flatMap((c) => c.userIds.map((u) => [u, { [c.conversationId]: run.readMarkers[u] ?? 0 }]))),
    history,
    chatList,
    slow: run.slow,
    recoveries: o.chaos ? run.recoveries : [],
    recoveryMs: o.recoveryMs,
  };
  const result = check(input);
  const s = run.stats;
  const figures = {
    seed: o.seed, sent: s.messages, attempts: s.attempts, acked: s.acked, retries: s.retries,
    duplicateAcks: s.duplicateAcks, ackTimeouts: s.ackTimeouts, errorAcks: s.errorAcks,
    drops: s.drops, dropsPlanned: s.dropsPlanned, dropsByKind: s.dropsByKind, disconnects: s.disconnects,
    reconnects: s.reconnects, resumes: s.resumes, resumesWithLastSequences: s.resumesWithLastSequences,
    reconnectsNotResumed: s.reconnectsNotResumed, connectErrors: s.connectErrors, pendingMessages: s.pendingMessages,
    hasMore: s.hasMore, restPaged: s.restPaged, holesFilled: s.holesFilled, receivedTwice: s.receivedTwice, foreignMessages: s.foreignMessages,
    readsSent: s.readsSent, readsAcked: s.readsAcked, readErrors: s.readErrors,
    syncHints: s.syncHints, hintFetched: s.hintFetched, slowExcused: s.slowExcused,
    faults: run.faults.map((f) => `${f.name}@${f.from}-${f.to ?? "?"}${f.nodes.length ? ` nodes ${f.nodes}` : ""}`).join(" "),
    recoveries: run.recoveries.map((r) => `${r.fault} ${r.ms ?? "none"} ms`).join(", "),
    stored: Object.values(history).reduce((n, h) => n + h.length, 0), sendingMs, totalMs: run.now(), schedule: digest,
  };
  console.log("soak figures:");
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(26)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
  console.log("soak checks (each must be 0):");
  const failed = printChecks(result, console.log, o.allow);
  if (o.report) writeFileSync(o.report, JSON.stringify({ options: o, figures, checks: result.checks, info: result.info, schedule: run.schedule, input }, null, 1));
  console.log(failed ? `soak: FAILED ${failed} check(s) (seed ${o.seed})` : `soak: all checks zero (seed ${o.seed})`);
  return failed ? 1 : 0;
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.selfTest) {
    const bad = selfTest();
    if (bad.length) { for (const b of bad) console.log(`self-test: ${b}`); return 1; }
    console.log("self-test: every fault caught");
    return 0;
  }
  if (o.check) {
    const report = JSON.parse(readFileSync(o.check, "utf8"));
    return printChecks(check(report.input)) ? 1 : 0;
  }
  return soak(o);
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(2); });
