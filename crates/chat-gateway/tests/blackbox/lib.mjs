// Helpers for the black-box suite: tokens, REST calls, socket connections, event waits.
// The server under test is started by tests/blackbox.rs, which passes CHAT_URL and CHAT_SECRET.
import { createHmac, randomUUID } from "node:crypto";
import { io } from "socket.io-client";

export const URL = process.env.CHAT_URL ?? "http://127.0.0.1:3000";
const SECRET = process.env.CHAT_SECRET ?? "dev-secret-change-me";

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** An HS256 token for `sub`, valid for `ttl` seconds (negative: already expired). */
export function token(sub, { name, ttl = 3600, claims = {}, secret = SECRET, header = { alg: "HS256", typ: "JWT" } } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub, exp: now + ttl, iat: now, ...(name ? { name } : {}), ...claims };
  const body = `${b64url(header)}.${b64url(payload)}`;
  const sig = createHmac("sha256", secret).update(body).digest("base64url");
  return `${body}.${sig}`;
}

/** A fresh user: id, name and token. */
export function user(name = "user") {
  const id = randomUUID();
  const n = `${name}-${id.slice(0, 6)}`;
  return { id, name: n, token: token(id, { name: n }) };
}

export const uuid = randomUUID;

/** A REST call; resolves to { status, headers, body } (body parsed as JSON when it is JSON). */
export async function rest(method, path, { token: t, body, headers = {}, raw, base = URL } = {}) {
  const h = { ...headers };
  if (t) h.authorization = `Bearer ${t}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Creates (or finds) the one-to-one conversation of `a` and `b`; returns its id. */
export async function conversation(a, b) {
  const r = await rest("POST", "/conversations/create/one-to-one", { token: a.token, body: { participantId: b.id } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`create conversation: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.conversationId;
}

/**
 * Connects a socket and waits for `connected` or `reconnected`.
 * Resolves to { socket, hello, event } where `event` is the greeting's name.
 * Every event the socket receives is recorded in `socket.log` ([name, payload]).
 * `url` defaults to CHAT_URL (another server: shutdown.test.mjs).
 */
export function connect(t, { deviceId, lastSequences, query, auth, transports = ["websocket"], timeout = 5000, url = URL } = {}) {
  return new Promise((resolve, reject) => {
    const a = auth ?? { ...(t ? { token: t } : {}), ...(deviceId ? { deviceId } : {}), ...(lastSequences ? { lastSequences } : {}) };
    const socket = io(url, { auth: a, query, transports, reconnection: false, forceNew: true, timeout });
    socket.log = [];
    socket.onAny((name, payload) => socket.log.push([name, payload]));
    socket.on("disconnect", (reason, details) => { socket.disconnectedWith = [reason, details]; });
    const timer = setTimeout(() => { socket.close(); reject(new Error("no greeting")); }, timeout);
    const done = (event) => (hello) => { clearTimeout(timer); resolve({ socket, hello, event }); };
    socket.once("connected", done("connected"));
    socket.once("reconnected", done("reconnected"));
    socket.once("connect_error", (err) => { clearTimeout(timer); socket.close(); reject(err); });
  });
}

/** Emits with an ack; resolves to the ack payload. */
export function ack(socket, event, payload, timeout = 5000) {
  const s = socket.timeout(timeout);
  return payload === undefined ? s.emitWithAck(event) : s.emitWithAck(event, payload);
}

/** Waits for `event` (optionally matching `pred`), also looking at what was already logged since `from`. */
export function waitFor(socket, event, pred = () => true, { timeout = 5000, from = 0 } = {}) {
  const seen = socket.log.slice(from).find(([n, p]) => n === event && pred(p));
  if (seen) return Promise.resolve(seen[1]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, on); reject(new Error(`timed out waiting for ${event}`)); }, timeout);
    const on = (p) => { if (pred(p)) { clearTimeout(timer); socket.off(event, on); resolve(p); } };
    socket.on(event, on);
  });
}

/** Resolves after `ms`; then returns the events named `event` logged meanwhile (matching `pred`). */
export async function collect(socket, event, ms, pred = () => true) {
  const from = socket.log.length;
  await sleep(ms);
  return socket.log.slice(from).filter(([n, p]) => n === event && pred(p)).map(([, p]) => p);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A message payload for `message:send`. */
export function message(conversationId, content = "hello", extra = {}) {
  return { conversationId, content, messageId: randomUUID(), clientTimestamp: Date.now(), ...extra };
}

// ---------------------------------------------------------------------------------------------
// Additions for the full suite. The helpers above keep their behaviour.

/** RFC 3339 UTC with millisecond precision, as every `*At` field must be. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sorted own keys, to compare payload shapes exactly. */
export const keys = (o) => Object.keys(o ?? {}).sort();

/** Closes every socket (or { socket }) given; ignores undefined. */
export function closeAll(...items) {
  for (const it of items.flat()) {
    const s = it?.socket ?? it;
    if (s && typeof s.close === "function") s.close();
  }
}

/**
 * Counts ack packets by id as they arrive on the wire (below the client's own de-duplication),
 * so a test can check that every emit got exactly one answer: `socket.acks` (Map id -> count).
 */
function countAcks(socket) {
  socket.acks = new Map();
  socket.io.on("packet", (p) => {
    if (p.type === 3 || p.type === 6) socket.acks.set(p.id, (socket.acks.get(p.id) ?? 0) + 1);
  });
}

/** Like `connect`, with ack counting (`socket.acks`). */
export async function connectCounting(t, opts) {
  const r = await connect(t, opts);
  countAcks(r.socket);
  return r;
}

/** Tries a handshake that must be refused; resolves to the `connect_error` message. */
export async function refusal(t, opts = {}) {
  try {
    const r = await connect(t, opts);
    r.socket.close();
  } catch (e) {
    return e.message;
  }
  throw new Error(`handshake was accepted (${JSON.stringify(opts)})`);
}

/** Resolves to [reason, details] when the socket disconnects (or rejects after `timeout`). */
export function disconnected(socket, timeout = 5000) {
  if (socket.disconnectedWith) return Promise.resolve(socket.disconnectedWith);
  const p = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("not disconnected")), timeout);
    timer.unref?.();
    socket.once("disconnect", (reason, details) => { clearTimeout(timer); resolve([reason, details]); });
  });
  p.catch(() => {}); // reported where awaited; never an unhandled rejection
  return p;
}

/** A user with two connected devices. */
export async function devices(u, n = 2) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const deviceId = randomUUID();
    const c = await connect(u.token, { deviceId });
    c.deviceId = deviceId;
    out.push(c);
  }
  return out;
}

/**
 * Two fresh users `a`, `b`, their one-to-one conversation `c`, each with two connected devices
 * (A1, A2, B1, B2 are `connect` results with `deviceId`). `close()` closes them all.
 */
export async function pair(na = "ada", nb = "bob") {
  const a = user(na), b = user(nb);
  const c = await conversation(a, b);
  const [A1, A2] = await devices(a);
  const [B1, B2] = await devices(b);
  return { a, b, c, A1, A2, B1, B2, all: [A1, A2, B1, B2], close: () => closeAll(A1, A2, B1, B2) };
}

/** REST history of `c` as `u` (query object → query string). */
export async function history(u, c, query = {}) {
  const qs = new URLSearchParams(query).toString();
  return rest("GET", `/conversations/${c}/messages${qs ? `?${qs}` : ""}`, { token: u.token });
}

/** The error code carried by a `message:failed` payload `{messageId?, conversationId?, status: "failed", error: {code, ...}}`. */
export const failedCode = (p) => (p?.status === "failed" ? p?.error?.code : undefined);

const ERROR_PAYLOAD_KEYS = new Set(["code", "message", "event", "conversationId", "messageId", "retryAfter", "reason", "timestamp"]);
const ERROR_ACK_KEYS = new Set(["code", "message", "retryAfter", "reason"]);

/** Checks a failed ack `{error:{code,message,retryAfter?}}` (reason allowed for `blocked`). */
export function assertErrorAck(a, code, assert) {
  assert.ok(a && typeof a === "object" && a.error, `expected an error ack ${code}, got ${JSON.stringify(a)}`);
  assert.deepEqual(keys(a), ["error"], `error ack has only "error": ${JSON.stringify(a)}`);
  assert.equal(a.error.code, code, `ack code: ${JSON.stringify(a)}`);
  assert.equal(typeof a.error.message, "string");
  assert.ok(a.error.message.length > 0);
  for (const k of Object.keys(a.error)) assert.ok(ERROR_ACK_KEYS.has(k), `unexpected ack error field ${k}`);
  if (code === "rate_limit_exceeded") assert.ok(Number.isInteger(a.error.retryAfter) && a.error.retryAfter >= 1 && a.error.retryAfter <= 60, `retryAfter: ${a.error.retryAfter}`);
  else assert.equal(a.error.retryAfter, undefined);
}

/** Checks an `error:{code}` ErrorPayload. */
export function assertErrorEvent(p, code, event, assert) {
  assert.equal(p.code, code);
  assert.equal(p.event, event);
  assert.equal(typeof p.message, "string");
  assert.match(p.timestamp, ISO_MS);
  for (const k of Object.keys(p)) assert.ok(ERROR_PAYLOAD_KEYS.has(k), `unexpected ErrorPayload field ${k}`);
  if (code === "rate_limit_exceeded") assert.ok(Number.isInteger(p.retryAfter) && p.retryAfter >= 1);
}

/**
 * Emits `event` with `payload` (undefined: no payload at all) expecting failure `code`: checks the
 * ack and the `error:{code}` event (and `message:failed` for sends). Resolves to { ack, error, failed }.
 */
export async function expectFailure(socket, event, payload, code, assert) {
  const from = socket.log.length;
  const a = await ack(socket, event, payload);
  assertErrorAck(a, code, assert);
  const error = await waitFor(socket, `error:${code}`, (p) => p.event === event, { from, timeout: 2000 });
  assertErrorEvent(error, code, event, assert);
  let failed;
  if (event === "message:send") {
    failed = await waitFor(socket, "message:failed", () => true, { from, timeout: 2000 });
    assert.equal(failed.status, "failed");
    assert.equal(failedCode(failed), code);
  }
  return { ack: a, error, failed };
}

// ---------------------------------------------------------------------------------------------
// Own gateway processes (shutdown.test.mjs, cli.test.mjs).

/** The built `chat-gateway` binary (CHAT_GATEWAY_BIN, set by tests/blackbox.rs). */
export const GATEWAY_BIN = process.env.CHAT_GATEWAY_BIN ?? new globalThis.URL("../../../../target/debug/chat-gateway", import.meta.url).pathname;
export const TEST_SECRET = SECRET;

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

/** A fresh temporary directory. */
export async function tempDir(prefix = "chat-bb-") {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Runs the gateway binary with `args` and a clean environment (PATH, HOME and `env` only).
 * Resolves at once to { proc, output() (stdout+stderr so far), exited: Promise<{code, signal, ms}> }.
 */
export async function runGateway(args = [], env = {}) {
  const { spawn } = await import("node:child_process");
  const started = Date.now();
  const proc = spawn(GATEWAY_BIN, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", RUST_LOG: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "", err = "";
  proc.stdout.on("data", (d) => { out += d; });
  proc.stderr.on("data", (d) => { err += d; });
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal, ms: Date.now() - started })));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Starts `serve` on a free port with its own SQLite file; waits until /health/live answers. */
export async function startGateway({ dir, env = {} } = {}) {
  const path = await import("node:path");
  const d = dir ?? (await tempDir());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const g = await runGateway(["serve"], {
    CHAT_BIND: `127.0.0.1:${port}`,
    CHAT_DATABASE_URL: `sqlite://${path.join(d, "chat.db")}?mode=rwc`,
    CHAT_JWT_SECRET: SECRET,
    ...env,
  });
  let exitedEarly = null;
  g.exited.then((e) => { exitedEarly = e; });
  for (let i = 0; i < 200; i++) {
    if (exitedEarly) throw new Error(`gateway exited at start: ${JSON.stringify(exitedEarly)}\n${g.stderr()}`);
    try {
      const r = await fetch(`${url}/health/live`);
      if (r.ok) return { ...g, url, dir: d, port };
    } catch { /* not yet */ }
    await sleep(50);
  }
  g.proc.kill("SIGKILL");
  throw new Error(`gateway did not start\n${g.stderr()}`);
}

/** Resolves to what `p` resolves to, or null after `ms` (the timer does not keep node alive). */
export function within(p, ms) {
  let t;
  const timeout = new Promise((r) => { t = setTimeout(() => r(null), ms); t.unref?.(); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
