// The web chat client: plain JavaScript (an ES module, no framework, no build step) over the
// gateway's contract (docs/protocol.md): REST for the chat list, history and new chats; Socket.IO
// for everything live. Read top to bottom: state, REST, socket, conversations, rendering, wiring.
//
// Message text is only ever put into the page with `textContent`, never as HTML.

const io = globalThis.io; // from /web/socket.io.min.js (socket.io-client 4.8.4)
const $ = (id) => document.getElementById(id);

const TOKEN_KEY = "chat.token"; // sessionStorage: one user per tab, kept across reloads
const deviceKey = (userId) => `chat.deviceId.${userId}`; // localStorage: a stable device per user
const PAGE = 30; // messages per history page
const SEND_TIMEOUT_MS = 10_000;
const TYPING_REFRESH_MS = 2_000; // re-send typing:start while typing (the quota is 30/min)
const TYPING_IDLE_MS = 2_500; // typing:stop after this long without a keystroke
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_CODES = new Set(["token_missing", "token_invalid", "token_expired"]);

/** Everything the page knows. `convs`: conversationId → conversation (see `ensureConv`). */
const state = {
  token: null,
  me: null, // { userId, name }
  deviceId: null,
  socket: null,
  convs: new Map(),
  openId: null,
  presence: new Map(), // userId → "online" | "away" | "offline"
  greeted: false, // a `connected`/`reconnected` was seen on this page
  localOrder: 0,
  typingOut: { conversationId: null, lastStart: 0, idle: null },
};
// Handy in the browser console (and used by the browser tests to drop the connection).
globalThis.chatApp = { state, get socket() { return state.socket; } };

// ---------------------------------------------------------------------------------------------
// Small helpers

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // non-secure contexts lack randomUUID
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The claims of a JWT, without checking it (the server does). */
function claims(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("that is not a token (a JWT has three parts)");
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

const shortId = (id) => `user ${String(id).slice(0, 8)}`;
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "");

function el(tag, { cls, text, attrs } = {}, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; // text only, never HTML
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

let errorTimer;
/** Shows an error in plain words (dismissed by its ✕ or after 8 s). */
function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { $("error").hidden = true; }, 8000);
}

function banner(text) {
  $("banner").textContent = text ?? "";
  $("banner").hidden = !text;
}

/** Plain words for an error `{code, message, retryAfter?, reason?}` (acks and REST problems). */
function describe(error, conv) {
  const peer = conv ? peerName(conv) : "they";
  switch (error?.code) {
    case "rate_limit_exceeded":
      return `You are going too fast: try again in ${error.retryAfter ?? "a few"} s.`;
    case "blocked":
      return error.reason === "you_blocked"
        ? `You blocked ${peer}: unblock them to send.`
        : `${peer} has blocked you: your messages are not delivered.`;
    case "not_participant": return "You are not in this conversation.";
    case "validation": return `Not accepted: ${error.message}`;
    case "unavailable": return "The server is busy or restarting: retry in a moment.";
    case "offline": return "You are offline: retry once reconnected.";
    case "timeout": return "No answer from the server: retry.";
    case "unauthorized": return "Your session is no longer valid: sign in again.";
    default: return `${error?.code ?? "error"}: ${error?.message ?? "something went wrong"}`;
  }
}

// ---------------------------------------------------------------------------------------------
// REST

/** A REST call with the token; resolves to the JSON body, throws `{message, status, code}`. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    if (res.status === 401) signOut("Your token was refused: sign in again.");
    const err = new Error(data?.detail ?? `${res.status} ${res.statusText}`);
    Object.assign(err, { status: res.status, code: data?.code, retryAfter: Number(res.headers.get("retry-after")) || undefined });
    throw err;
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Sign-in

async function devSignIn(name) {
  const res = await fetch("/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status === 404) {
    $("dev-form").hidden = true;
    showError("This server does not mint development tokens (it is not on the development secret on a loopback address): paste a token.");
    return;
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) return showError(data?.detail ?? `Sign-in failed (${res.status})`);
  signIn(data.token);
}

function signIn(token) {
  let c;
  try { c = claims(token.trim()); } catch (e) { return showError(`That token cannot be read: ${e.message}`); }
  if (!c.sub) return showError("That token has no user id (sub).");
  state.token = token.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  state.me = { userId: c.sub, name: c.name ?? shortId(c.sub) };
  state.deviceId = localStorage.getItem(deviceKey(c.sub)) ?? uuid();
  localStorage.setItem(deviceKey(c.sub), state.deviceId);
  $("signin").hidden = true;
  $("chat").hidden = false;
  $("me-name").textContent = state.me.name;
  $("me-id").textContent = state.me.userId;
  connect();
  loadChatList();
}

function signOut(reason) {
  state.socket?.disconnect();
  state.socket = null;
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, openId: null, greeted: false });
  state.convs.clear();
  state.presence.clear();
  banner(null);
  $("chat").hidden = true;
  $("signin").hidden = false;
  $("conversation").hidden = true;
  $("no-conversation").hidden = false;
  $("chat-list").replaceChildren();
  document.title = "Chat";
  if (reason) showError(reason);
}

// ---------------------------------------------------------------------------------------------
// Socket.IO

/**
 * Where this page stands in each conversation it has loaded: the end of the run of consecutive
 * sequences it holds. Sent on every (re)connect as `auth.lastSequences`, so a resume owes exactly
 * what this page is missing, even messages the server emitted to a connection that was already
 * dead.
 */
function lastSequences() {
  const out = {};
  for (const conv of state.convs.values()) {
    if (!conv.loaded) continue;
    const seqs = [...conv.messages.values()].map((m) => m.serverSequence).filter(Boolean).sort((a, b) => a - b);
    if (seqs.length === 0) continue;
    let end = seqs[0];
    for (const s of seqs) if (s === end + 1) end = s;
    out[conv.id] = end;
  }
  return out;
}

function connect() {
  const socket = io({
    // A function, so that every reconnect sends fresh values; the same deviceId lets the server resume.
    auth: (cb) => cb({ token: state.token, deviceId: state.deviceId, lastSequences: lastSequences() }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  state.socket = socket;

  socket.on("connect_error", (err) => {
    if (TOKEN_CODES.has(err.message)) return signOut(`Your token was refused (${err.message}): sign in again.`);
    banner("Cannot reach the chat server: retrying…");
    // Refused by the server (not a network error): socket.io does not retry by itself.
    if (!socket.active) setTimeout(() => state.socket === socket && socket.connect(), 3000);
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") return;
    banner("Connection lost: reconnecting…");
    clearIncomingTyping();
    if (reason === "io server disconnect") setTimeout(() => state.socket === socket && socket.connect(), 1000);
  });

  socket.on("connected", (hello) => {
    banner(null);
    state.me.userId = hello.userId;
    applyUnreadCounts(hello.unreadCounts);
    // A new session after an earlier one on this page (the resume window had passed): start over.
    if (state.greeted) reloadEverything();
    state.greeted = true;
  });
  socket.on("reconnected", (hello) => {
    banner(null);
    // The first greeting of this page (a reload of the same device): the page holds nothing to
    // continue, and loads what it shows from REST; pending messages would only duplicate that.
    const freshPage = !state.greeted;
    state.greeted = true;
    applyUnreadCounts(hello.unreadCounts);
    if (freshPage) return loadChatList();
    for (const m of hello.pendingMessages) received(m); // oldest first, merged by serverSequence
    if (hello.hasMore) reloadEverything(); // more than the server sends at once: fetch the rest
    else loadChatList();
  });

  socket.on("message:received", received);
  socket.on("message:delivered", (d) => delivered(d));
  socket.on("unread_count:updated", (u) => {
    const conv = state.convs.get(u.conversationId);
    if (!conv) return loadChatList();
    Object.assign(conv, { unreadCount: u.unreadCount, muted: u.muted });
    renderList();
  });
  socket.on("read_receipt:received", (r) => {
    const conv = state.convs.get(r.conversationId);
    if (!conv || r.userId === state.me.userId) return;
    conv.peerReadSeq = Math.max(conv.peerReadSeq, r.lastReadSequence ?? 0);
    if (conv.id === state.openId) renderMessages();
  });
  socket.on("typing:indicator", (t) => {
    const conv = state.convs.get(t.conversationId);
    if (!conv || t.userId === state.me.userId) return;
    clearTimeout(conv.typingTimer);
    conv.typing = t.isTyping;
    if (t.isTyping) {
      const ms = t.expiresAt ? Math.max(0, Date.parse(t.expiresAt) - Date.now()) + 500 : 6000;
      conv.typingTimer = setTimeout(() => { conv.typing = false; renderTyping(); }, Math.min(ms, 10_000));
    }
    renderTyping();
  });
  socket.on("presence:changed", (p) => {
    state.presence.set(p.userId, p.status);
    renderList();
    renderHeader();
  });
  for (const [event, patch] of [
    ["user:blocked", { blockedByMe: true }],
    ["user:unblocked", { blockedByMe: false }],
    ["conversation:muted", { muted: true }],
    ["conversation:unmuted", { muted: false }],
  ]) {
    socket.on(event, (p) => {
      const conv = state.convs.get(p.conversationId);
      if (!conv) return;
      Object.assign(conv, patch);
      renderList();
      renderHeader();
    });
  }
  socket.on("error:unauthorized", (e) => {
    if (e.code === "token_expired") signOut("Your session expired: sign in again.");
  });
}

/** Emits with an ack; resolves to the ack, or `{error}` on timeout or when offline. */
async function request(event, payload, timeout = SEND_TIMEOUT_MS) {
  if (!state.socket?.connected) return { error: { code: "offline", message: "not connected" } };
  try {
    return await state.socket.timeout(timeout).emitWithAck(event, payload);
  } catch {
    return { error: { code: "timeout", message: "no answer" } };
  }
}

// ---------------------------------------------------------------------------------------------
// Conversations and messages

/** The record of a conversation, made on first sight. */
function ensureConv(id) {
  let conv = state.convs.get(id);
  if (!conv) {
    conv = {
      id, peer: null, lastMessage: null, unreadCount: 0, muted: false, blockedByMe: false,
      blockedMe: false, updatedAt: "", messages: new Map(), loaded: false, hasMore: false,
      loadingOlder: false, peerReadSeq: 0, myReadSeq: 0, typing: false, typingTimer: null,
    };
    state.convs.set(id, conv);
  }
  return conv;
}

const peerName = (conv) => conv.peer?.name ?? (conv.peer ? shortId(conv.peer.userId) : "…");

function setPeer(conv, participants) {
  const p = participants.find((x) => x.userId !== state.me.userId);
  if (!p) return;
  conv.peer = { userId: p.userId, name: p.name ?? conv.peer?.name ?? null };
  if (p.presence) state.presence.set(p.userId, p.presence);
}

async function loadChatList() {
  try {
    const list = await api("GET", "/conversations/chat-list?limit=100");
    if (!state.me) return;
    for (const item of list.items) {
      const conv = ensureConv(item.conversationId);
      setPeer(conv, item.participants);
      Object.assign(conv, {
        unreadCount: item.unreadCount, muted: item.muted, blockedByMe: item.blockedByMe,
        blockedMe: item.blockedMe, updatedAt: item.updatedAt,
      });
      if (item.lastMessage) noteLast(conv, item.lastMessage);
    }
    renderList();
    renderHeader();
  } catch (e) {
    if (e.status !== 401) showError(`Could not load your chats: ${e.message}`);
  }
}

function applyUnreadCounts(counts) {
  for (const [id, n] of Object.entries(counts ?? {})) ensureConv(id).unreadCount = n;
  renderList();
}

/** After a new session or a resume with too much missed: refetch the list and the open chat. */
function reloadEverything() {
  for (const conv of state.convs.values()) conv.loaded = false;
  loadChatList();
  const open = state.convs.get(state.openId);
  if (open) loadLatest(open);
}

function noteLast(conv, m) {
  const cur = conv.lastMessage;
  if (!cur || (m.serverSequence ?? Infinity) >= (cur.serverSequence ?? 0) || cur.status === "pending") {
    conv.lastMessage = m;
  }
  if (m.timestamp && m.timestamp > conv.updatedAt) conv.updatedAt = m.timestamp;
}

/** Merges a message (history, live, pending on resume or our own send) by messageId. */
function merge(m) {
  const conv = ensureConv(m.conversationId);
  const old = conv.messages.get(m.messageId);
  const msg = old ? Object.assign(old, m, { status: m.serverSequence ? "delivered" : old.status }) : { ...m, status: m.status ?? "delivered" };
  conv.messages.set(m.messageId, msg);
  if (m.senderId === state.me.userId && conv.peer && m.readBy?.includes(conv.peer.userId)) {
    conv.peerReadSeq = Math.max(conv.peerReadSeq, m.serverSequence);
  }
  if (m.senderName && m.senderId !== state.me.userId && conv.peer?.userId === m.senderId) conv.peer.name = m.senderName;
  noteLast(conv, msg);
  return conv;
}

function received(m) {
  const known = state.convs.get(m.conversationId)?.peer;
  const conv = merge(m);
  if (!known) loadChatList(); // a conversation someone else started
  if (m.senderId !== state.me.userId) {
    conv.typing = false;
    renderTyping();
  }
  if (conv.id === state.openId) {
    renderMessages();
    markRead(conv);
  }
  renderList();
}

function delivered(d) {
  const conv = state.convs.get(d.conversationId);
  const msg = conv?.messages.get(d.messageId);
  if (!msg) return;
  Object.assign(msg, { serverSequence: d.serverSequence, timestamp: d.persistedAt, status: "delivered", error: null });
  conv.blockedMe = false;
  noteLast(conv, msg);
  if (conv.id === state.openId) renderMessages();
  renderList();
}

/** Messages of a conversation in order: by serverSequence, then not-yet-sent ones as typed. */
function ordered(conv) {
  return [...conv.messages.values()].sort((a, b) => {
    if (a.serverSequence && b.serverSequence) return a.serverSequence - b.serverSequence;
    if (a.serverSequence) return -1;
    if (b.serverSequence) return 1;
    return (a.localOrder ?? 0) - (b.localOrder ?? 0);
  });
}

async function loadLatest(conv) {
  $("history-status").textContent = "Loading…";
  try {
    const page = await api("GET", `/conversations/${conv.id}/messages?limit=${PAGE}`);
    for (const m of page.items) merge(m);
    conv.hasMore = page.hasMore;
    conv.loaded = true;
  } catch (e) {
    if (e.status !== 401) showError(`Could not load the messages: ${e.message}`);
  }
  if (conv.id !== state.openId) return;
  renderMessages({ toBottom: true });
  markRead(conv);
  fillView(conv);
}

/** Pages back while the view has no scroll bar yet. */
function fillView(conv) {
  const box = $("messages");
  if (conv.hasMore && box.scrollHeight <= box.clientHeight) loadOlder(conv);
}

async function loadOlder(conv) {
  if (conv.loadingOlder || !conv.hasMore) return;
  const first = ordered(conv).find((m) => m.serverSequence);
  if (!first) return;
  conv.loadingOlder = true;
  $("history-status").textContent = "Loading older messages…";
  try {
    const page = await api("GET", `/conversations/${conv.id}/messages?limit=${PAGE}&beforeSequence=${first.serverSequence}`);
    for (const m of page.items) merge(m);
    conv.hasMore = page.hasMore;
  } catch (e) {
    if (e.status !== 401) showError(`Could not load older messages: ${e.message}`);
  } finally {
    conv.loadingOlder = false;
  }
  if (conv.id !== state.openId) return;
  renderMessages({ keepPosition: true });
  fillView(conv);
}

function openConversation(id) {
  stopTyping();
  state.openId = id;
  const conv = ensureConv(id);
  $("conversation").hidden = false;
  $("no-conversation").hidden = true;
  renderHeader();
  renderTyping();
  renderList();
  renderMessages({ toBottom: true });
  if (!conv.loaded) loadLatest(conv);
  else markRead(conv);
  $("composer-input").focus();
}

/** Tells the server we have read up to the newest message of the peer (when the page is seen). */
async function markRead(conv) {
  if (document.visibilityState === "hidden" || conv.id !== state.openId) return;
  const newest = ordered(conv).filter((m) => m.serverSequence && m.senderId !== state.me.userId).pop();
  if (!newest || newest.serverSequence <= conv.myReadSeq) return;
  conv.myReadSeq = newest.serverSequence;
  const ack = await request("message:read", { conversationId: conv.id, lastReadSequence: newest.serverSequence });
  if (ack.error) {
    conv.myReadSeq = 0; // try again next time
    if (ack.error.code !== "offline") showError(describe(ack.error, conv));
    return;
  }
  conv.unreadCount = ack.newUnreadCount;
  renderList();
}

async function startChat(participantId) {
  if (!UUID_RE.test(participantId)) return showError("That is not a user id (a UUID like 0190c7d2-…).");
  if (participantId.toLowerCase() === state.me.userId.toLowerCase()) return showError("That is your own id: chat with someone else.");
  try {
    const c = await api("POST", "/conversations/create/one-to-one", { participantId });
    const conv = ensureConv(c.conversationId);
    setPeer(conv, c.participants);
    if (!conv.updatedAt) conv.updatedAt = c.createdAt;
    $("new-chat-id").value = "";
    openConversation(conv.id);
    loadChatList();
  } catch (e) {
    if (e.status !== 401) showError(`Could not start the chat: ${e.message}`);
  }
}

function send(conv, content) {
  const msg = {
    messageId: uuid(), conversationId: conv.id, senderId: state.me.userId, senderName: state.me.name,
    content, timestamp: new Date().toISOString(), status: "pending", localOrder: ++state.localOrder,
  };
  conv.messages.set(msg.messageId, msg);
  noteLast(conv, msg);
  renderMessages({ toBottom: true });
  renderList();
  attempt(conv, msg);
}

/** Sends (or re-sends, with the same messageId: the server stores it once) a message. */
async function attempt(conv, msg) {
  Object.assign(msg, { status: "pending", error: null });
  if (conv.id === state.openId) renderMessages();
  const ack = await request("message:send", {
    conversationId: conv.id, content: msg.content, messageId: msg.messageId, clientTimestamp: Date.now(),
  });
  if (ack.error) {
    Object.assign(msg, { status: "failed", error: ack.error });
    if (ack.error.code === "blocked") conv.blockedMe = ack.error.reason === "user_blocked";
    showError(describe(ack.error, conv));
    if (conv.id === state.openId) { renderMessages(); renderHeader(); }
    renderList();
    return;
  }
  delivered(ack);
}

async function toggle(conv, on, off, flag) {
  const event = conv[flag] ? off : on;
  const payload = flag === "blockedByMe" ? { conversationId: conv.id, blockedUserId: conv.peer?.userId } : { conversationId: conv.id };
  const ack = await request(event, payload);
  if (ack.error) return showError(describe(ack.error, conv));
  conv[flag] = event === on;
  renderHeader();
  renderList();
}

// Typing: typing:start while keys are pressed (refreshed every 2 s), typing:stop when idle or sent.
function typed() {
  const conv = state.convs.get(state.openId);
  const t = state.typingOut;
  if (!conv || !$("composer-input").value.trim()) return stopTyping();
  const now = Date.now();
  if (t.conversationId !== conv.id || now - t.lastStart > TYPING_REFRESH_MS) {
    t.conversationId = conv.id;
    t.lastStart = now;
    request("typing:start", { conversationId: conv.id }); // refusals (block, quota) stay silent
  }
  clearTimeout(t.idle);
  t.idle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  const t = state.typingOut;
  clearTimeout(t.idle);
  if (!t.conversationId) return;
  request("typing:stop", { conversationId: t.conversationId });
  t.conversationId = null;
  t.lastStart = 0;
}

function clearIncomingTyping() {
  for (const conv of state.convs.values()) conv.typing = false;
  renderTyping();
}

// ---------------------------------------------------------------------------------------------
// Rendering (all text through textContent)

function renderList() {
  if (!state.me) return;
  const convs = [...state.convs.values()].filter((c) => c.peer).sort((a, b) => (b.updatedAt > a.updatedAt ? 1 : b.updatedAt < a.updatedAt ? -1 : 0));
  const items = convs.map((conv) => {
    const presence = conv.blockedByMe || conv.blockedMe ? "offline" : state.presence.get(conv.peer.userId) ?? "offline";
    const name = el("span", { cls: "name", text: peerName(conv) });
    if (conv.muted) name.append(el("span", { cls: "flag muted-flag", text: "🔕 muted", attrs: { title: "muted" } }));
    if (conv.blockedByMe) name.append(el("span", { cls: "flag", text: "⛔ blocked" }));
    const badge = el("span", { cls: `badge${conv.muted ? " muted" : ""}`, text: String(conv.unreadCount) });
    badge.hidden = !conv.unreadCount;
    const m = conv.lastMessage;
    const last = conv.typing
      ? el("span", { cls: "last typing", text: "typing…" })
      : el("span", { cls: "last", text: m ? `${m.senderId === state.me.userId ? "You: " : ""}${m.content}` : "No messages yet" });
    const li = el("li", { cls: conv.id === state.openId ? "active" : "", attrs: { "data-conversation-id": conv.id } },
      el("span", { cls: `dot ${presence}`, attrs: { title: presence } }), name, badge, last);
    li.addEventListener("click", () => openConversation(conv.id));
    return li;
  });
  $("chat-list").replaceChildren(...items);
  $("chat-list-empty").hidden = items.length > 0;
  const unread = convs.filter((c) => !c.muted).reduce((n, c) => n + c.unreadCount, 0);
  document.title = unread ? `(${unread}) Chat` : "Chat";
}

function renderHeader() {
  const conv = state.convs.get(state.openId);
  if (!conv) return;
  const presence = conv.blockedByMe || conv.blockedMe ? "offline" : (conv.peer && state.presence.get(conv.peer.userId)) ?? "offline";
  $("peer-name").textContent = peerName(conv);
  $("peer-presence").className = `dot ${presence}`;
  $("peer-presence").title = presence;
  $("mute").textContent = conv.muted ? "Unmute" : "Mute";
  $("block").textContent = conv.blockedByMe ? "Unblock" : "Block";
  $("block").disabled = !conv.peer;
  const notice = conv.blockedByMe
    ? `You blocked ${peerName(conv)}: neither of you can send here until you unblock.`
    : conv.blockedMe ? `${peerName(conv)} has blocked you: your messages are not delivered.` : "";
  $("conv-notice").textContent = notice;
  $("conv-notice").hidden = !notice;
}

function renderTyping() {
  const conv = state.convs.get(state.openId);
  const on = Boolean(conv?.typing);
  $("peer-typing").textContent = on ? `${peerName(conv)} is typing…` : "";
  $("peer-typing").hidden = !on;
  renderList();
}

function statusOf(conv, m) {
  if (m.status === "failed") return ["failed", "failed"];
  if (!m.serverSequence) return ["pending", "sending…"];
  if (m.serverSequence <= conv.peerReadSeq) return ["read", "✓✓"];
  return ["delivered", "✓"];
}

function renderMessages({ toBottom = false, keepPosition = false } = {}) {
  const conv = state.convs.get(state.openId);
  if (!conv) return;
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const items = ordered(conv).map((m) => {
    const mine = m.senderId === state.me.userId;
    const meta = el("span", { cls: "meta" }, el("time", { text: time(m.timestamp), attrs: { datetime: m.timestamp ?? "" } }));
    if (mine) {
      const [status, label] = statusOf(conv, m);
      meta.append(el("span", { cls: "status", text: label, attrs: { "data-status": status, title: status } }));
      if (status === "failed") {
        const retry = el("button", { cls: "small retry", text: "Retry", attrs: { type: "button", title: m.error ? describe(m.error, conv) : "" } });
        retry.addEventListener("click", () => attempt(conv, m));
        meta.append(retry);
      }
    }
    return el("li", {
      cls: `msg${mine ? " mine" : ""}${m.status === "failed" ? " failed" : ""}`,
      attrs: { "data-message-id": m.messageId, "data-status": mine ? statusOf(conv, m)[0] : "received" },
    }, el("div", { cls: "text", text: m.content }), meta);
  });
  $("message-list").replaceChildren(...items);
  $("history-status").textContent = !conv.loaded ? "Loading…"
    : conv.hasMore ? "Scroll up for older messages" : items.length ? "Beginning of the conversation" : "No messages yet: say hello!";
  if (keepPosition) box.scrollTop = box.scrollHeight - fromBottom;
  else if (toBottom || atBottom) box.scrollTop = box.scrollHeight;
}

// ---------------------------------------------------------------------------------------------
// Wiring

$("dev-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("dev-name").value.trim();
  if (name) devSignIn(name).catch((err) => showError(`Sign-in failed: ${err.message}`));
});
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn($("token-input").value);
});
$("error-close").addEventListener("click", () => { $("error").hidden = true; });
$("sign-out").addEventListener("click", () => signOut());
$("copy-id").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(state.me.userId);
    $("copy-id").textContent = "Copied!";
  } catch {
    getSelection().selectAllChildren($("me-id")); // no clipboard access: select it instead
    $("copy-id").textContent = "Selected";
  }
  setTimeout(() => { $("copy-id").textContent = "Copy my id"; }, 1500);
});
$("new-chat").addEventListener("submit", (e) => {
  e.preventDefault();
  startChat($("new-chat-id").value.trim());
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const conv = state.convs.get(state.openId);
  const content = $("composer-input").value.trim();
  if (!conv || !content) return;
  $("composer-input").value = "";
  stopTyping();
  send(conv, content);
});
$("composer-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $("composer").requestSubmit();
  }
});
$("composer-input").addEventListener("input", typed);
$("messages").addEventListener("scroll", () => {
  const conv = state.convs.get(state.openId);
  if (conv?.loaded && $("messages").scrollTop < 80) loadOlder(conv);
});
$("mute").addEventListener("click", () => {
  const conv = state.convs.get(state.openId);
  if (conv) toggle(conv, "mute:conversation", "unmute:conversation", "muted");
});
$("block").addEventListener("click", () => {
  const conv = state.convs.get(state.openId);
  if (conv?.peer) toggle(conv, "block:user", "unblock:user", "blockedByMe");
});
document.addEventListener("visibilitychange", () => {
  const conv = state.convs.get(state.openId);
  if (conv) markRead(conv);
});

// Start: a token in the address (#token=…) wins, then this tab's last token, else sign-in.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) history.replaceState(null, "", location.pathname + location.search); // keep it out of the address bar
const saved = fromHash ?? sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
else $("signin").hidden = false;
