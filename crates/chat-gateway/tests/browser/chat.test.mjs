// The web client (crates/chat-gateway/web/) in real Chromium: two browser contexts as two users.
// Started by tests/browser.rs, which passes CHAT_URL (a gateway on the development secret),
// CHAT_URL_NO_DEV_TOKENS (one with a secret of its own), CHROMIUM and SCREENSHOT_DIR.
// Every wait is on a visible state of the page (locators), never a sleep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const URL = process.env.CHAT_URL ?? "http://127.0.0.1:3000";
const NO_DEV_URL = process.env.CHAT_URL_NO_DEV_TOKENS;
const SHOTS = process.env.SCREENSHOT_DIR ?? join(import.meta.dirname, "../../../../target/browser-screenshots");
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const XSS = "<img src=x onerror=alert(1)>";

mkdirSync(SHOTS, { recursive: true });

/** fetch, with the body always read (an unread body keeps its connection, and node, alive). */
async function call(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}
const post = (url, body) => call(url, { method: "POST", headers: { "content-type": "application/json" }, body });

test("the page and its files are served with their content types", async () => {
  const page = await call(`${URL}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.match(page.headers.get("content-security-policy"), /script-src 'self'/);
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.match(page.text, /<script type="module" src="\/web\/app.js">/);
  for (const [path, type] of [["app.js", /^text\/javascript/], ["socket.io.min.js", /^text\/javascript/], ["style.css", /^text\/css/]]) {
    const r = await call(`${URL}/web/${path}`);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get("content-type"), type, path);
  }
  assert.equal((await call(`${URL}/web/nope.js`)).status, 404);
  // the REST routes are untouched
  assert.equal((await call(`${URL}/health/live`)).status, 200);
  assert.equal((await call(`${URL}/conversations/chat-list`)).status, 401);
});

test("POST /dev/token mints a working token on the development secret, and is 404 elsewhere", async () => {
  const r = await post(`${URL}/dev/token`, JSON.stringify({ name: "Tester" }));
  assert.equal(r.status, 200);
  const { token, userId } = r.json;
  assert.match(userId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  assert.equal(claims.sub, userId);
  assert.equal(claims.name, "Tester");
  const list = await call(`${URL}/conversations/chat-list`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(list.status, 200);
  for (const body of ["{}", JSON.stringify({ name: "" }), JSON.stringify({ name: 3 }), "not json"]) {
    const bad = await post(`${URL}/dev/token`, body);
    assert.equal(bad.status, 400, body);
    assert.equal(bad.json.code, "validation");
  }
  if (NO_DEV_URL) {
    const off = await post(`${NO_DEV_URL}/dev/token`, JSON.stringify({ name: "x" }));
    assert.equal(off.status, 404);
    assert.equal(off.json.code, "not_found");
    assert.equal((await call(`${NO_DEV_URL}/`)).status, 200, "the page is served everywhere");
  }
});

/** A page in a fresh context that records dialogs and script errors. */
async function newUser(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: URL });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.dialogs = [];
  page.errors = [];
  page.on("dialog", (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => page.errors.push(e.message));
  return page;
}

async function signIn(page, name) {
  await page.goto(URL);
  await page.locator("#dev-name").fill(name);
  await page.locator("#dev-submit").click();
  await page.locator("#me-name", { hasText: name }).waitFor();
  return (await page.locator("#me-id").textContent()).trim();
}

async function send(page, text) {
  await page.locator("#composer-input").fill(text);
  await page.locator("#composer-input").press("Enter");
}

const mine = (page, text, status) => page.locator(`#message-list li.msg.mine[data-status="${status}"]`, { hasText: text });
const theirs = (page, text) => page.locator("#message-list li.msg:not(.mine)", { hasText: text });
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const texts = (page) => page.locator("#message-list .text").allTextContents();

test("two users chat in Chromium", { timeout: 85_000 }, async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS, headless: true });
  try {
    const ada = await newUser(browser);
    const bob = await newUser(browser);

    // Sign-in through POST /dev/token
    await ada.goto(URL);
    await ada.locator("#dev-name").fill("Ada");
    await shot(ada, "01-sign-in");
    const adaId = await signIn(ada, "Ada");
    const bobId = await signIn(bob, "Bob");
    assert.notEqual(adaId, bobId);
    await bob.locator("#copy-id").click();
    await bob.locator("#copy-id", { hasText: /Copied!|Selected/ }).waitFor();

    // Ada starts the chat with Bob's id and sends; Bob sees an unread badge, then reads.
    await ada.locator("#new-chat-id").fill(bobId);
    await ada.locator("#new-chat button[type=submit]").click();
    await ada.locator("#peer-name", { hasText: "Bob" }).waitFor();
    await send(ada, "Hello Bob");
    await mine(ada, "Hello Bob", "delivered").waitFor();
    const adaInBobsList = bob.locator("#chat-list li", { hasText: "Ada" });
    await adaInBobsList.locator(".badge", { hasText: "1" }).waitFor();
    await adaInBobsList.locator(".last", { hasText: "Hello Bob" }).waitFor();
    await adaInBobsList.locator(".dot.online").waitFor();
    await shot(bob, "02-unread-badge");
    await adaInBobsList.click();
    await theirs(bob, "Hello Bob").waitFor();
    await adaInBobsList.locator(".badge").waitFor({ state: "hidden" });
    await mine(ada, "Hello Bob", "read").waitFor();
    assert.equal(await mine(ada, "Hello Bob", "read").locator(".status").textContent(), "✓✓");

    // Bob answers
    await send(bob, "Hi Ada, nice to meet you!");
    await theirs(ada, "Hi Ada, nice to meet you!").waitFor();
    await mine(bob, "Hi Ada, nice to meet you!", "read").waitFor();
    await shot(ada, "03-conversation");

    // Typing indicator, shown while Bob types and gone when he clears the box
    await bob.locator("#composer-input").pressSequentially("typing…", { delay: 20 });
    await ada.locator("#peer-typing", { hasText: "Bob is typing…" }).waitFor();
    await shot(ada, "04-typing");
    await bob.locator("#composer-input").fill("");
    await ada.locator("#peer-typing").waitFor({ state: "hidden" });

    // Markup in a message is text
    await send(ada, XSS);
    await mine(ada, XSS, "delivered").or(mine(ada, XSS, "read")).waitFor();
    await bob.locator("#message-list .text").getByText(XSS, { exact: true }).waitFor();
    assert.equal(await bob.locator("#message-list img").count(), 0);
    assert.equal(await bob.locator("#chat-list img").count(), 0);

    // Block: both sides' sends are refused and say so; unblock, and a retry (same messageId) goes through
    await ada.locator("#block").click();
    await ada.locator("#block", { hasText: "Unblock" }).waitFor();
    await ada.locator("#conv-notice", { hasText: "You blocked Bob" }).waitFor();
    await send(bob, "are you there?");
    await mine(bob, "are you there?", "failed").waitFor();
    await bob.locator("#error", { hasText: "Ada has blocked you" }).waitFor();
    await send(ada, "sorry");
    await mine(ada, "sorry", "failed").waitFor();
    await ada.locator("#error", { hasText: "You blocked Bob" }).waitFor();
    await shot(bob, "05-blocked");
    await ada.locator("#block").click();
    await ada.locator("#block", { hasText: /^Block$/ }).waitFor();
    await ada.locator("#conv-notice").waitFor({ state: "hidden" });
    await mine(bob, "are you there?", "failed").locator(".retry").click();
    await mine(bob, "are you there?", "read").waitFor();
    await mine(ada, "sorry", "failed").locator(".retry").click();
    await theirs(bob, "sorry").waitFor();
    assert.equal(await theirs(ada, "are you there?").count(), 1);

    // Mute: flagged in the list, messages still arrive
    await bob.locator("#mute").click();
    await bob.locator("#mute", { hasText: "Unmute" }).waitFor();
    await adaInBobsList.locator(".muted-flag").waitFor();
    await send(ada, "muted but delivered");
    await theirs(bob, "muted but delivered").waitFor();
    await shot(bob, "06-muted");
    await bob.locator("#mute").click();
    await bob.locator("#mute", { hasText: /^Mute$/ }).waitFor();
    await adaInBobsList.locator(".muted-flag").waitFor({ state: "hidden" });

    // Connection lost: a banner while reconnecting; what was sent meanwhile is merged in order
    await bob.route("**/socket.io/**", (route) => route.abort());
    await bob.evaluate(() => globalThis.chatApp.socket.io.engine.close());
    await bob.locator("#banner", { hasText: "reconnecting" }).waitFor();
    await ada.locator("#peer-presence.offline").waitFor(); // the server saw Bob leave
    await send(ada, "while you were away");
    await mine(ada, "while you were away", "delivered").waitFor();
    await shot(bob, "07-reconnecting");
    await bob.unroute("**/socket.io/**");
    await bob.locator("#banner").waitFor({ state: "hidden", timeout: 15_000 });
    await theirs(bob, "while you were away").waitFor();
    await mine(ada, "while you were away", "read").waitFor();
    await ada.locator("#peer-presence.online").waitFor();
    const afterResume = await texts(bob);
    assert.deepEqual(afterResume.slice(-3), ["sorry", "muted but delivered", "while you were away"]);
    assert.equal(afterResume.filter((t) => t === "while you were away").length, 1);

    // A reload resumes: still signed in, same conversation and history
    await bob.reload();
    await bob.locator("#me-name", { hasText: "Bob" }).waitFor();
    await adaInBobsList.locator(".last", { hasText: "while you were away" }).waitFor();
    await adaInBobsList.click();
    await theirs(bob, "while you were away").waitFor();
    assert.deepEqual(await texts(bob), ["Hello Bob", "Hi Ada, nice to meet you!", XSS, "are you there?", "sorry", "muted but delivered", "while you were away"]);
    await mine(bob, "Hi Ada, nice to meet you!", "read").waitFor();
    await send(bob, "back again");
    await theirs(ada, "back again").waitFor();
    await shot(ada, "08-after-reload");
    for (const page of [ada, bob]) {
      if (await page.locator("#error").isVisible()) await page.locator("#error-close").click();
    }
    await ada.locator("#error").waitFor({ state: "hidden" });
    await shot(ada, "09-chat"); // the README's screenshot (docs/screenshot.png)

    // A token in the address signs in too (and leaves the address bar)
    const token = await ada.evaluate(() => sessionStorage.getItem("chat.token"));
    const third = await newUser(browser);
    await third.goto(`${URL}/#token=${token}`);
    await third.locator("#me-id", { hasText: adaId }).waitFor();
    assert.equal(new globalThis.URL(third.url()).hash, "");
    await third.locator("#sign-out").click();
    await third.locator("#dev-name").waitFor();

    for (const page of [ada, bob, third]) {
      assert.deepEqual(page.dialogs, [], "no dialog fired");
      assert.deepEqual(page.errors, [], "no script error");
    }
  } finally {
    await browser.close();
  }
});

test("history pages back on scroll-up", { timeout: 40_000 }, async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS, headless: true });
  try {
    const writer = await newUser(browser);
    const reader = await newUser(browser);
    const readerId = await signIn(reader, "Reader");
    await signIn(writer, "Writer");
    await writer.locator("#new-chat-id").fill(readerId);
    await writer.locator("#new-chat button[type=submit]").click();
    await writer.locator("#peer-name", { hasText: "Reader" }).waitFor();
    // 75 messages, sent by the page's own socket (the same events the composer sends)
    const failures = await writer.evaluate(async () => {
      const { socket, state } = globalThis.chatApp;
      let failed = 0;
      for (let i = 1; i <= 75; i++) {
        const ack = await socket.timeout(5000).emitWithAck("message:send", {
          conversationId: state.openId, content: `line ${i}`, messageId: crypto.randomUUID(),
        });
        if (ack.error) failed++;
      }
      return failed;
    });
    assert.equal(failures, 0);
    await reader.locator("#chat-list li", { hasText: "Writer" }).locator(".badge", { hasText: "75" }).waitFor();
    await reader.reload(); // forget what arrived live: the history comes from REST
    await reader.locator("#me-name", { hasText: "Reader" }).waitFor();
    await reader.locator("#chat-list li", { hasText: "Writer" }).click();
    await theirs(reader, "line 75").waitFor();
    assert.ok((await texts(reader)).length < 75, "only the newest page at first");
    for (let i = 0; i < 10 && !(await reader.locator("#history-status", { hasText: "Beginning of the conversation" }).isVisible()); i++) {
      await reader.locator("#messages").evaluate((box) => { box.scrollTop = 0; });
      await reader.locator("#history-status", { hasText: /Scroll up|Beginning/ }).waitFor();
    }
    await reader.locator("#history-status", { hasText: "Beginning of the conversation" }).waitFor();
    const all = await texts(reader);
    assert.deepEqual(all, Array.from({ length: 75 }, (_, i) => `line ${i + 1}`));
    await reader.locator("#chat-list li", { hasText: "Writer" }).locator(".badge").waitFor({ state: "hidden" });
    await shot(reader, "10-history");
  } finally {
    await browser.close();
  }
});

test("the page catches up by history after a skipped sequence and after sync:hint (contract 4.6)", { timeout: 40_000 }, async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS, headless: true });
  try {
    const ada = await newUser(browser);
    const bob = await newUser(browser);
    await signIn(ada, "Ada Gap");
    const bobId = await signIn(bob, "Bob Gap");
    await ada.locator("#new-chat-id").fill(bobId);
    await ada.locator("#new-chat button[type=submit]").click();
    await ada.locator("#peer-name", { hasText: "Bob Gap" }).waitFor();
    await send(ada, "one");
    await mine(ada, "one", "delivered").waitFor();
    await bob.locator("#chat-list li", { hasText: "Ada Gap" }).click();
    await theirs(bob, "one").waitFor();
    // Bob's page stops hearing message:received for a while: a live event it misses.
    const deaf = () => bob.evaluate(() => {
      const s = globalThis.chatApp.socket;
      globalThis.heldListeners = s.listeners("message:received");
      s.off("message:received");
    });
    const hear = () => bob.evaluate(() => {
      const s = globalThis.chatApp.socket;
      for (const l of globalThis.heldListeners) s.on("message:received", l);
    });
    await deaf();
    await send(ada, "two (missed live)");
    await mine(ada, "two (missed live)", "delivered").waitFor();
    await hear();
    await send(ada, "three");
    await theirs(bob, "three").waitFor();
    // three skipped sequence 2: the page fetched it.
    await theirs(bob, "two (missed live)").waitFor();
    assert.deepEqual(await texts(bob), ["one", "two (missed live)", "three"]);

    await deaf();
    await send(ada, "four (missed live)");
    await mine(ada, "four (missed live)", "delivered").waitFor();
    await hear();
    // The hint a node sends after a gap (the server side is tests/redis-restart and tests/node-pause).
    await bob.evaluate(() => {
      const { socket, state } = globalThis.chatApp;
      for (const l of socket.listeners("sync:hint")) l({ lastSequences: { [state.openId]: 4 } });
    });
    await theirs(bob, "four (missed live)").waitFor();
    assert.deepEqual(await texts(bob), ["one", "two (missed live)", "three", "four (missed live)"]);
    assert.deepEqual(bob.errors, []);
  } finally {
    await browser.close();
  }
});
