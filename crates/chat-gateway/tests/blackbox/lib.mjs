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
export async function rest(method, path, { token: t, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (t) h.authorization = `Bearer ${t}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(`${URL}${path}`, { method, headers: h, body: payload });
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
 */
export function connect(t, { deviceId, lastSequences, query, auth, transports = ["websocket"], timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const a = auth ?? { ...(t ? { token: t } : {}), ...(deviceId ? { deviceId } : {}), ...(lastSequences ? { lastSequences } : {}) };
    const socket = io(URL, { auth: a, query, transports, reconnection: false, forceNew: true, timeout });
    socket.log = [];
    socket.onAny((name, payload) => socket.log.push([name, payload]));
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
