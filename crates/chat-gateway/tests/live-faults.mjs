// Helpers of the fault tests (redis-restart, node-pause): a recipient that repairs its gaps
// the way contract 4.6 tells a client to, and a sender that keeps sending.
import { rest, message, ack, sleep } from "./blackbox/lib.mjs";

/**
 * Tracks what `socket` (user `u`, conversation `c`, on the node at `base`) has: messages
 * received live, and those fetched by history after a `sync:hint` whose head for `c` is ahead
 * of what it has. Only the hint triggers fetches here, so a test shows the hint suffices.
 */
export function recipient(socket, u, c, base) {
  const r = { live: new Set(), fetched: new Set(), hints: [], fetches: 0, seqs: new Set() };
  r.has = (id) => r.live.has(id) || r.fetched.has(id);
  socket.on("message:received", (m) => {
    if (m.conversationId !== c) return;
    r.live.add(m.messageId);
    r.seqs.add(m.serverSequence);
  });
  let fetching = Promise.resolve();
  socket.on("sync:hint", (h) => {
    r.hints.push({ at: Date.now(), hint: h });
    const head = h.lastSequences?.[c] ?? 0;
    fetching = fetching.then(async () => {
      // Everything up to the head that was not read live.
      let after = 0;
      while (r.seqs.has(after + 1)) after++;
      while (after < head) {
        const page = await rest("GET", `/conversations/${c}/messages?afterSequence=${after}&limit=200`, { token: u.token, base })
          .catch(() => ({ status: 0 }));
        if (page.status !== 200) { await sleep(200); continue; }
        r.fetches++;
        for (const m of page.body.items) { r.fetched.add(m.messageId); r.seqs.add(m.serverSequence); }
        while (r.seqs.has(after + 1)) after++;
        if (!page.body.hasMore) break;
      }
    });
  });
  r.settled = () => fetching;
  return r;
}

/** Sends from `socket` into `c` every `every` ms until `stop()`; `acked` lists what was acknowledged. */
export function sender(socket, c, every = 20) {
  const s = { acked: [], refused: 0, running: true, slowest: 0 };
  s.done = (async () => {
    for (let i = 0; s.running; i++) {
      const m = message(c, `m${i}`);
      const t = Date.now();
      const r = await ack(socket, "message:send", m, 5000).catch(() => null);
      s.slowest = Math.max(s.slowest, Date.now() - t);
      if (r?.status === "delivered") s.acked.push(m.messageId);
      else s.refused++;
      await sleep(every);
    }
  })();
  s.stop = async () => { s.running = false; await s.done; };
  return s;
}

/** Waits until `pred()` holds (checked every 50 ms); false after `ms`. */
export async function until(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}
