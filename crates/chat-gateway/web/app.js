// The web chat client: plain JavaScript (an ES module, no framework, no build step) over the
// gateway's contract (docs/protocol.md): REST for the chat list, history and new chats; Socket.IO
// for everything live. Read top to bottom: state, REST, socket, conversations, rendering, wiring.
//
// Message text is only ever put into the page with `textContent`, never as HTML.
//
// Types: `tsc -p crates/chat-gateway/web` checks this file (JSDoc) against protocol.d.ts, the
// payload types generated from the Rust vocabulary (see README.md); no build step either way.
// @ts-check

/** @typedef {import('./protocol').ChatList} ChatList */
/** @typedef {import('./protocol').Connected} Connected */
/** @typedef {import('./protocol').Conversation} Conversation */
/** @typedef {import('./protocol').ErrorPayload} ErrorPayload */
/** @typedef {import('./protocol').FailureBody} FailureBody */
/** @typedef {import('./protocol').HandshakeAuth} HandshakeAuth */
/** @typedef {import('./protocol').History} HistoryPage */
/** @typedef {import('./protocol').Message} Message */
/** @typedef {import('./protocol').MessageDelivered} MessageDelivered */
/** @typedef {import('./protocol').MessageReceived} MessageReceived */
/** @typedef {import('./protocol').MessageRead} MessageRead */
/** @typedef {import('./protocol').MessageSend} MessageSend */
/** @typedef {import('./protocol').ConversationRef} ConversationRef */
/** @typedef {import('./protocol').Presence} Presence */
/** @typedef {import('./protocol').PresenceChanged} PresenceChanged */
/** @typedef {import('./protocol').ReadAck} ReadAck */
/** @typedef {import('./protocol').ReadReceiptReceived} ReadReceiptReceived */
/** @typedef {import('./protocol').Reconnected} Reconnected */
/** @typedef {import('./protocol').SyncHint} SyncHint */
/** @typedef {import('./protocol').TypingIndicator} TypingIndicator */
/** @typedef {import('./protocol').UnreadCountUpdated} UnreadCountUpdated */
/** @typedef {import('./protocol').BlockEntry} BlockEntry */
/** @typedef {import('./protocol').BlockResult} BlockResult */
/** @typedef {import('./protocol').MuteChange} MuteChange */
/** @typedef {import('./protocol').MuteResult} MuteResult */

/** A failure this page makes up itself, in the shape of the server's. */
/** @typedef {{ code: "offline" | "timeout", message: string, retryAfter?: undefined, reason?: undefined }} LocalFailure */
/**
 * The answer of `request()`: the event's ack, or `{error}` (the server's or a local one).
 * @template T
 * @typedef {(T & { error?: undefined }) | { error: FailureBody | LocalFailure }} Answer
 */
/** What `api()` throws. */
/** @typedef {Error & { status?: number, code?: string, retryAfter?: number }} ApiError */
/**
 * A message as the page holds it: from the server (history, live, resumed), or typed here and
 * not yet acked (no `serverSequence`).
 * @typedef {Omit<Message, "serverSequence" | "readBy"> & Partial<Omit<MessageReceived, "status">> & {
 *   status?: "pending" | "delivered" | "failed", localOrder?: number,
 *   error?: FailureBody | LocalFailure | null }} Shown
 */
/** @typedef {{ userId: string, name: string | null }} Peer */
/**
 * A conversation as the page holds it (see `ensureConv`).
 * @typedef {{
 *   id: string, peer: Peer | null, lastMessage: Shown | null, unreadCount: number,
 *   muted: boolean, blockedByMe: boolean, blockedMe: boolean, updatedAt: string,
 *   messages: Map<string, Shown>, loaded: boolean, hasMore: boolean, loadingOlder: boolean,
 *   peerReadSeq: number, myReadSeq: number, typing: boolean, typingTimer: number | undefined,
 * }} Conv
 */

const io = globalThis.io; // from /web/socket.io.min.js (socket.io-client 4.8.4)
/** The element with this id (index.html has every id asked for). */
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** The text field with this id. */
const field = (/** @type {string} */ id) => /** @type {HTMLInputElement | HTMLTextAreaElement} */ ($(id));

const TOKEN_KEY = "chat.token"; // sessionStorage: one user per tab, kept across reloads
const deviceKey = (/** @type {string} */ userId) => `chat.deviceId.${userId}`; // localStorage: a stable device per user
const PAGE = 30; // messages per history page
const SEND_TIMEOUT_MS = 10_000;
const TYPING_REFRESH_MS = 2_000; // re-send typing:start while typing (the quota is 30/min)
const TYPING_IDLE_MS = 2_500; // typing:stop after this long without a keystroke
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_CODES = new Set(["token_missing", "token_invalid", "token_expired"]);

/**
 * Everything the page knows. `convs`: conversationId → conversation (see `ensureConv`).
 * @type {{
 *   token: string | null, me: { userId: string, name: string } | null, deviceId: string | null,
 *   socket: Socket | null, convs: Map<string, Conv>, openId: string | null,
 *   presence: Map<string, Presence>, greeted: boolean, localOrder: number,
 *   typingOut: { conversationId: string | null, lastStart: number, idle: number | undefined },
 * }}
 */
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
  typingOut: { conversationId: null, lastStart: 0, idle: undefined },
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

/**
 * The claims of a JWT, without checking it (the server does).
 * @param {string} token
 * @returns {{ sub?: string, name?: string }}
 */
function claims(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("that is not a token (a JWT has three parts)");
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

const shortId = (/** @type {string} */ id) => `user ${String(id).slice(0, 8)}`;
const time = (/** @type {string | undefined} */ iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "");

/**
 * A new element: class, text (never HTML), attributes, children.
 * @param {string} tag
 * @param {{ cls?: string, text?: string, attrs?: Record<string, string> }} [options]
 * @param {...(Node | string)} children
 */
function el(tag, { cls, text, attrs } = {}, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; // text only, never HTML
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** @type {number | undefined} */
let errorTimer;
/**
 * Shows an error in plain words (dismissed by its ✕ or after 8 s).
 * @param {string} text
 */
function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { $("error").hidden = true; }, 8000);
}

/** @param {string | null} text the banner, or none */
function banner(text) {
  $("banner").textContent = text ?? "";
  $("banner").hidden = !text;
}

/**
 * Plain words for an error `{code, message, retryAfter?, reason?}` (acks and REST problems).
 * @param {FailureBody | LocalFailure | null | undefined} error
 * @param {Conv} [conv]
 */
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

/**
 * A REST call with the token; resolves to the JSON body, throws `{message, status, code}`.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>} the answer, typed where it is used
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
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

/** @param {string} name */
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

/** @param {string} token */
function signIn(token) {
  let c;
  try { c = claims(token.trim()); } catch (e) { return showError(`That token cannot be read: ${/** @type {Error} */ (e).message}`); }
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

/** @param {string} [reason] shown after signing out */
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
  /** @type {Record<string, number>} */
  const out = {};
  for (const conv of state.convs.values()) {
    if (!conv.loaded) continue;
    const end = runEnd(conv);
    if (end !== undefined) out[conv.id] = end;
  }
  return out;
}

/**
 * The end of the run of consecutive sequences a conversation holds, from the oldest it holds
 * (undefined when it holds none).
 * @param {Conv} conv
 */
function runEnd(conv) {
  const seqs = /** @type {number[]} */ ([...conv.messages.values()].map((m) => m.serverSequence).filter(Boolean)).sort((a, b) => a - b);
  if (seqs.length === 0) return undefined;
  let end = seqs[0];
  for (const s of seqs) if (s === end + 1) end = s;
  return end;
}

/** Conversation id → the head a catch-up is fetching up to (one catch-up per conversation). */
/** @type {Map<string, number>} */
const catchingUp = new Map();

/**
 * Fetches by history what a loaded conversation lacks up to `head` (contract 4.6: after
 * `sync:hint`, or a `message:received` that skipped a sequence). A call while one runs raises
 * its target.
 * @param {Conv} conv
 * @param {number} head
 */
async function catchUp(conv, head) {
  const running = catchingUp.get(conv.id);
  if (running !== undefined) {
    if (head > running) catchingUp.set(conv.id, head);
    return;
  }
  catchingUp.set(conv.id, head);
  try {
    for (let pages = 0; pages < 50; pages++) {
      const end = runEnd(conv) ?? 0;
      const target = catchingUp.get(conv.id) ?? head;
      if (end >= target) break;
      /** @type {HistoryPage} */
      const page = await api("GET", `/conversations/${conv.id}/messages?limit=200&afterSequence=${end}`);
      for (const m of page.items) merge(m);
      if (page.items.length === 0) break;
    }
  } catch (e) {
    const err = /** @type {ApiError} */ (e);
    if (err.status !== 401) showError(`Could not fetch missed messages: ${err.message}`);
  } finally {
    catchingUp.delete(conv.id);
  }
  if (conv.id === state.openId) {
    renderMessages();
    markRead(conv);
  }
  renderList();
}

/**
 * `sync:hint`: the server may have missed live events for this page; catch up where behind.
 * @param {SyncHint} hint
 */
function syncHint(hint) {
  let unknown = false;
  for (const [id, head] of Object.entries(hint.lastSequences)) {
    const conv = state.convs.get(id);
    if (!conv) unknown = true;
    else if (conv.loaded && head > (runEnd(conv) ?? 0)) catchUp(conv, head);
    else if (!conv.loaded && head > (conv.lastMessage?.serverSequence ?? 0)) unknown = true;
  }
  // Conversations not loaded here: their last message and unread count come with the list.
  if (unknown) loadChatList();
}

function connect() {
  const socket = io({
    // A function, so that every reconnect sends fresh values; the same deviceId lets the server resume.
    auth: (/** @type {(auth: HandshakeAuth) => void} */ cb) =>
      cb({ token: state.token ?? undefined, deviceId: state.deviceId ?? undefined, lastSequences: lastSequences() }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  state.socket = socket;

  socket.on("connect_error", (/** @type {Error} */ err) => {
    if (TOKEN_CODES.has(err.message)) return signOut(`Your token was refused (${err.message}): sign in again.`);
    banner("Cannot reach the chat server: retrying…");
    // Refused by the server (not a network error): socket.io does not retry by itself.
    if (!socket.active) setTimeout(() => state.socket === socket && socket.connect(), 3000);
  });
  socket.on("disconnect", (/** @type {string} */ reason) => {
    if (reason === "io client disconnect") return;
    banner("Connection lost: reconnecting…");
    clearIncomingTyping();
    if (reason === "io server disconnect") setTimeout(() => state.socket === socket && socket.connect(), 1000);
  });

  socket.on("connected", (/** @type {Connected} */ hello) => {
    banner(null);
    if (state.me) state.me.userId = hello.userId;
    applyUnreadCounts(hello.unreadCounts);
    // A new session after an earlier one on this page (the resume window had passed): start over.
    if (state.greeted) reloadEverything();
    state.greeted = true;
  });
  socket.on("reconnected", (/** @type {Reconnected} */ hello) => {
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
  socket.on("sync:hint", syncHint);
  socket.on("message:delivered", (/** @type {MessageDelivered} */ d) => delivered(d));
  socket.on("unread_count:updated", (/** @type {UnreadCountUpdated} */ u) => {
    const conv = state.convs.get(u.conversationId);
    if (!conv) return loadChatList();
    Object.assign(conv, { unreadCount: u.unreadCount, muted: u.muted });
    renderList();
  });
  socket.on("read_receipt:received", (/** @type {ReadReceiptReceived} */ r) => {
    const conv = state.convs.get(r.conversationId);
    if (!conv || r.userId === state.me?.userId) return;
    conv.peerReadSeq = Math.max(conv.peerReadSeq, r.lastReadSequence ?? 0);
    if (conv.id === state.openId) renderMessages();
  });
  socket.on("typing:indicator", (/** @type {TypingIndicator} */ t) => {
    const conv = state.convs.get(t.conversationId);
    if (!conv || t.userId === state.me?.userId) return;
    clearTimeout(conv.typingTimer);
    conv.typing = t.isTyping;
    if (t.isTyping) {
      const ms = t.expiresAt ? Math.max(0, Date.parse(t.expiresAt) - Date.now()) + 500 : 6000;
      conv.typingTimer = setTimeout(() => { conv.typing = false; renderTyping(); }, Math.min(ms, 10_000));
    }
    renderTyping();
  });
  socket.on("presence:changed", (/** @type {PresenceChanged} */ p) => {
    state.presence.set(p.userId, p.status);
    renderList();
    renderHeader();
  });
  for (const [event, patch] of /** @type {Array<[string, Partial<Conv>]>} */ ([
    ["user:blocked", { blockedByMe: true }],
    ["user:unblocked", { blockedByMe: false }],
    ["conversation:muted", { muted: true }],
    ["conversation:unmuted", { muted: false }],
  ])) {
    socket.on(event, (/** @type {BlockEntry | MuteChange} */ p) => {
      const conv = state.convs.get(p.conversationId);
      if (!conv) return;
      Object.assign(conv, patch);
      renderList();
      renderHeader();
    });
  }
  socket.on("error:unauthorized", (/** @type {ErrorPayload} */ e) => {
    if (e.code === "token_expired") signOut("Your session expired: sign in again.");
  });
}

/**
 * Emits with an ack; resolves to the ack, or `{error}` on timeout or when offline.
 * @param {string} event
 * @param {object} payload
 * @returns {Promise<any>} an `Answer` of the event's ack, typed where it is used
 */
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

/**
 * The record of a conversation, made on first sight.
 * @param {string} id
 * @returns {Conv}
 */
function ensureConv(id) {
  let conv = state.convs.get(id);
  if (!conv) {
    conv = {
      id, peer: null, lastMessage: null, unreadCount: 0, muted: false, blockedByMe: false,
      blockedMe: false, updatedAt: "", messages: new Map(), loaded: false, hasMore: false,
      loadingOlder: false, peerReadSeq: 0, myReadSeq: 0, typing: false, typingTimer: undefined,
    };
    state.convs.set(id, conv);
  }
  return conv;
}

/** The open conversation, if any. */
const openConv = () => (state.openId === null ? undefined : state.convs.get(state.openId));

const peerName = (/** @type {Conv} */ conv) => conv.peer?.name ?? (conv.peer ? shortId(conv.peer.userId) : "…");

/**
 * @param {Conv} conv
 * @param {Array<{ userId: string, name: string | null, presence?: Presence }>} participants
 */
function setPeer(conv, participants) {
  const p = participants.find((x) => x.userId !== state.me?.userId);
  if (!p) return;
  conv.peer = { userId: p.userId, name: p.name ?? conv.peer?.name ?? null };
  if (p.presence) state.presence.set(p.userId, p.presence);
}

async function loadChatList() {
  try {
    /** @type {ChatList} */
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
    const err = /** @type {ApiError} */ (e);
    if (err.status !== 401) showError(`Could not load your chats: ${err.message}`);
  }
}

/** @param {Record<string, number> | undefined} counts conversationId → unread messages */
function applyUnreadCounts(counts) {
  for (const [id, n] of Object.entries(counts ?? {})) ensureConv(id).unreadCount = n;
  renderList();
}

/** After a new session or a resume with too much missed: refetch the list and the open chat. */
function reloadEverything() {
  for (const conv of state.convs.values()) conv.loaded = false;
  loadChatList();
  const open = openConv();
  if (open) loadLatest(open);
}

/**
 * Keeps `m` as the conversation's last message if it is newer.
 * @param {Conv} conv
 * @param {Shown} m
 */
function noteLast(conv, m) {
  const cur = conv.lastMessage;
  if (!cur || (m.serverSequence ?? Infinity) >= (cur.serverSequence ?? 0) || cur.status === "pending") {
    conv.lastMessage = m;
  }
  if (m.timestamp && m.timestamp > conv.updatedAt) conv.updatedAt = m.timestamp;
}

/**
 * Merges a message (history, live, pending on resume or our own send) by messageId.
 * @param {Message & Partial<MessageReceived>} m
 */
function merge(m) {
  const conv = ensureConv(m.conversationId);
  const old = conv.messages.get(m.messageId);
  const msg = old ? Object.assign(old, m, { status: m.serverSequence ? "delivered" : old.status }) : { ...m, status: m.status ?? "delivered" };
  conv.messages.set(m.messageId, msg);
  if (m.senderId === state.me?.userId && conv.peer && m.readBy?.includes(conv.peer.userId)) {
    conv.peerReadSeq = Math.max(conv.peerReadSeq, m.serverSequence);
  }
  if (m.senderName && m.senderId !== state.me?.userId && conv.peer?.userId === m.senderId) conv.peer.name = m.senderName;
  noteLast(conv, msg);
  return conv;
}

/** @param {MessageReceived} m */
function received(m) {
  const before = state.convs.get(m.conversationId);
  const known = before?.peer;
  const end = before?.loaded ? runEnd(before) : undefined;
  const conv = merge(m);
  // A skipped sequence: a live event was missed; fetch it (contract 4.6).
  if (end !== undefined && m.serverSequence > end + 1) catchUp(conv, m.serverSequence);
  if (!known) loadChatList(); // a conversation someone else started
  if (m.senderId !== state.me?.userId) {
    conv.typing = false;
    renderTyping();
  }
  if (conv.id === state.openId) {
    renderMessages();
    markRead(conv);
  }
  renderList();
}

/** @param {MessageDelivered} d the send's ack, or `message:delivered` */
function delivered(d) {
  const conv = state.convs.get(d.conversationId);
  const msg = conv?.messages.get(d.messageId);
  if (!conv || !msg) return;
  Object.assign(msg, { serverSequence: d.serverSequence, timestamp: d.persistedAt, status: "delivered", error: null });
  conv.blockedMe = false;
  noteLast(conv, msg);
  if (conv.id === state.openId) renderMessages();
  renderList();
}

/**
 * Messages of a conversation in order: by serverSequence, then not-yet-sent ones as typed.
 * @param {Conv} conv
 */
function ordered(conv) {
  return [...conv.messages.values()].sort((a, b) => {
    if (a.serverSequence && b.serverSequence) return a.serverSequence - b.serverSequence;
    if (a.serverSequence) return -1;
    if (b.serverSequence) return 1;
    return (a.localOrder ?? 0) - (b.localOrder ?? 0);
  });
}

/** @param {Conv} conv */
async function loadLatest(conv) {
  $("history-status").textContent = "Loading…";
  try {
    /** @type {HistoryPage} */
    const page = await api("GET", `/conversations/${conv.id}/messages?limit=${PAGE}`);
    for (const m of page.items) merge(m);
    conv.hasMore = page.hasMore;
    conv.loaded = true;
  } catch (e) {
    const err = /** @type {ApiError} */ (e);
    if (err.status !== 401) showError(`Could not load the messages: ${err.message}`);
  }
  if (conv.id !== state.openId) return;
  renderMessages({ toBottom: true });
  markRead(conv);
  fillView(conv);
}

/**
 * Pages back while the view has no scroll bar yet.
 * @param {Conv} conv
 */
function fillView(conv) {
  const box = $("messages");
  if (conv.hasMore && box.scrollHeight <= box.clientHeight) loadOlder(conv);
}

/** @param {Conv} conv */
async function loadOlder(conv) {
  if (conv.loadingOlder || !conv.hasMore) return;
  const first = ordered(conv).find((m) => m.serverSequence);
  if (!first) return;
  conv.loadingOlder = true;
  $("history-status").textContent = "Loading older messages…";
  try {
    /** @type {HistoryPage} */
    const page = await api("GET", `/conversations/${conv.id}/messages?limit=${PAGE}&beforeSequence=${first.serverSequence}`);
    for (const m of page.items) merge(m);
    conv.hasMore = page.hasMore;
  } catch (e) {
    const err = /** @type {ApiError} */ (e);
    if (err.status !== 401) showError(`Could not load older messages: ${err.message}`);
  } finally {
    conv.loadingOlder = false;
  }
  if (conv.id !== state.openId) return;
  renderMessages({ keepPosition: true });
  fillView(conv);
}

/** @param {string} id */
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

/**
 * Tells the server we have read up to the newest message of the peer (when the page is seen).
 * @param {Conv} conv
 */
async function markRead(conv) {
  if (document.visibilityState === "hidden" || conv.id !== state.openId) return;
  const newest = ordered(conv).filter((m) => m.serverSequence && m.senderId !== state.me?.userId).pop();
  if (!newest?.serverSequence || newest.serverSequence <= conv.myReadSeq) return;
  conv.myReadSeq = newest.serverSequence;
  /** @type {Answer<ReadAck>} */
  const ack = await request("message:read", /** @satisfies {MessageRead} */ ({ conversationId: conv.id, lastReadSequence: newest.serverSequence }));
  if (ack.error) {
    conv.myReadSeq = 0; // try again next time
    if (ack.error.code !== "offline") showError(describe(ack.error, conv));
    return;
  }
  conv.unreadCount = ack.newUnreadCount;
  renderList();
}

/** @param {string} participantId */
async function startChat(participantId) {
  if (!UUID_RE.test(participantId)) return showError("That is not a user id (a UUID like 0190c7d2-…).");
  if (participantId.toLowerCase() === state.me?.userId.toLowerCase()) return showError("That is your own id: chat with someone else.");
  try {
    /** @type {Conversation} */
    const c = await api("POST", "/conversations/create/one-to-one", { participantId });
    const conv = ensureConv(c.conversationId);
    setPeer(conv, c.participants);
    if (!conv.updatedAt) conv.updatedAt = c.createdAt;
    field("new-chat-id").value = "";
    openConversation(conv.id);
    loadChatList();
  } catch (e) {
    const err = /** @type {ApiError} */ (e);
    if (err.status !== 401) showError(`Could not start the chat: ${err.message}`);
  }
}

/**
 * @param {Conv} conv
 * @param {string} content
 */
function send(conv, content) {
  if (!state.me) return;
  /** @type {Shown} */
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

/**
 * Sends (or re-sends, with the same messageId: the server stores it once) a message.
 * @param {Conv} conv
 * @param {Shown} msg
 */
async function attempt(conv, msg) {
  Object.assign(msg, { status: "pending", error: null });
  if (conv.id === state.openId) renderMessages();
  /** @type {Answer<MessageDelivered>} */
  const ack = await request("message:send", /** @satisfies {MessageSend} */ ({
    conversationId: conv.id, content: msg.content, messageId: msg.messageId, clientTimestamp: Date.now(),
  }));
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

/**
 * Blocks or unblocks, mutes or unmutes.
 * @param {Conv} conv
 * @param {string} on the event that sets `flag`
 * @param {string} off the event that clears it
 * @param {"muted" | "blockedByMe"} flag
 */
async function toggle(conv, on, off, flag) {
  const event = conv[flag] ? off : on;
  const payload = flag === "blockedByMe" ? { conversationId: conv.id, blockedUserId: conv.peer?.userId } : { conversationId: conv.id };
  /** @type {Answer<BlockResult | MuteResult>} */
  const ack = await request(event, payload);
  if (ack.error) return showError(describe(ack.error, conv));
  conv[flag] = event === on;
  renderHeader();
  renderList();
}

// Typing: typing:start while keys are pressed (refreshed every 2 s), typing:stop when idle or sent.
function typed() {
  const conv = openConv();
  const t = state.typingOut;
  if (!conv || !field("composer-input").value.trim()) return stopTyping();
  const now = Date.now();
  if (t.conversationId !== conv.id || now - t.lastStart > TYPING_REFRESH_MS) {
    t.conversationId = conv.id;
    t.lastStart = now;
    request("typing:start", /** @satisfies {ConversationRef} */ ({ conversationId: conv.id })); // refusals (block, quota) stay silent
  }
  clearTimeout(t.idle);
  t.idle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  const t = state.typingOut;
  clearTimeout(t.idle);
  if (!t.conversationId) return;
  request("typing:stop", /** @satisfies {ConversationRef} */ ({ conversationId: t.conversationId }));
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
  const convs = /** @type {Array<Conv & { peer: Peer }>} */ ([...state.convs.values()].filter((c) => c.peer)).sort((a, b) => (b.updatedAt > a.updatedAt ? 1 : b.updatedAt < a.updatedAt ? -1 : 0));
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
      : el("span", { cls: "last", text: m ? `${m.senderId === state.me?.userId ? "You: " : ""}${m.content}` : "No messages yet" });
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
  const conv = openConv();
  if (!conv) return;
  const presence = conv.blockedByMe || conv.blockedMe ? "offline" : (conv.peer && state.presence.get(conv.peer.userId)) ?? "offline";
  $("peer-name").textContent = peerName(conv);
  $("peer-presence").className = `dot ${presence}`;
  $("peer-presence").title = presence;
  $("mute").textContent = conv.muted ? "Unmute" : "Mute";
  $("block").textContent = conv.blockedByMe ? "Unblock" : "Block";
  /** @type {HTMLButtonElement} */ ($("block")).disabled = !conv.peer;
  const notice = conv.blockedByMe
    ? `You blocked ${peerName(conv)}: neither of you can send here until you unblock.`
    : conv.blockedMe ? `${peerName(conv)} has blocked you: your messages are not delivered.` : "";
  $("conv-notice").textContent = notice;
  $("conv-notice").hidden = !notice;
}

function renderTyping() {
  const conv = openConv();
  const on = Boolean(conv?.typing);
  $("peer-typing").textContent = on ? `${peerName(/** @type {Conv} */ (conv))} is typing…` : "";
  $("peer-typing").hidden = !on;
  renderList();
}

/**
 * How a message of ours stands: its `data-status` and its mark.
 * @param {Conv} conv
 * @param {Shown} m
 * @returns {[string, string]}
 */
function statusOf(conv, m) {
  if (m.status === "failed") return ["failed", "failed"];
  if (!m.serverSequence) return ["pending", "sending…"];
  if (m.serverSequence <= conv.peerReadSeq) return ["read", "✓✓"];
  return ["delivered", "✓"];
}

/** @param {{ toBottom?: boolean, keepPosition?: boolean }} [options] where to scroll */
function renderMessages({ toBottom = false, keepPosition = false } = {}) {
  const conv = openConv();
  if (!conv) return;
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const items = ordered(conv).map((m) => {
    const mine = m.senderId === state.me?.userId;
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
  const name = field("dev-name").value.trim();
  if (name) devSignIn(name).catch((err) => showError(`Sign-in failed: ${err.message}`));
});
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn(field("token-input").value);
});
$("error-close").addEventListener("click", () => { $("error").hidden = true; });
$("sign-out").addEventListener("click", () => signOut());
$("copy-id").addEventListener("click", async () => {
  if (!state.me) return;
  try {
    await navigator.clipboard.writeText(state.me.userId);
    $("copy-id").textContent = "Copied!";
  } catch {
    getSelection()?.selectAllChildren($("me-id")); // no clipboard access: select it instead
    $("copy-id").textContent = "Selected";
  }
  setTimeout(() => { $("copy-id").textContent = "Copy my id"; }, 1500);
});
$("new-chat").addEventListener("submit", (e) => {
  e.preventDefault();
  startChat(field("new-chat-id").value.trim());
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const conv = openConv();
  const content = field("composer-input").value.trim();
  if (!conv || !content) return;
  field("composer-input").value = "";
  stopTyping();
  send(conv, content);
});
$("composer-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    /** @type {HTMLFormElement} */ ($("composer")).requestSubmit();
  }
});
$("composer-input").addEventListener("input", typed);
$("messages").addEventListener("scroll", () => {
  const conv = openConv();
  if (conv?.loaded && $("messages").scrollTop < 80) loadOlder(conv);
});
$("mute").addEventListener("click", () => {
  const conv = openConv();
  if (conv) toggle(conv, "mute:conversation", "unmute:conversation", "muted");
});
$("block").addEventListener("click", () => {
  const conv = openConv();
  if (conv?.peer) toggle(conv, "block:user", "unblock:user", "blockedByMe");
});
document.addEventListener("visibilitychange", () => {
  const conv = openConv();
  if (conv) markRead(conv);
});

// Start: a token in the address (#token=…) wins, then this tab's last token, else sign-in.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) history.replaceState(null, "", location.pathname + location.search); // keep it out of the address bar
const saved = fromHash ?? sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved);
else $("signin").hidden = false;
