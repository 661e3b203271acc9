// Clients of the storage fault test (tests/db_faults.rs, which kills and locks the database
// meanwhile and judges what these report). Reports one JSON line per answer on stdout:
//   {kind: "send", client, start, end, status, code?, messageId}   (times: epoch ms)
//   {kind: "ready", start, end, status}                             (GET /health/ready)
// and {kind: "started"} once every client is connected and has sent once, {kind: "done"} at
// the end. Runs until its stdin closes. Needs CHAT_URL and CHAT_SECRET.
import { user, conversation, connect, message, rest, sleep } from "../blackbox/lib.mjs";

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let running = true;
process.stdin.on("data", () => {});
process.stdin.on("end", () => { running = false; });

// One send, timed from emit to ack. The ack timeout is far above the contract's 3 s, so that
// a send that waits too long is reported with how long it waited.
async function send(socket, client, c) {
  const m = message(c, "under faults");
  const start = Date.now();
  let status, code, why;
  try {
    const r = await socket.timeout(15_000).emitWithAck("message:send", m);
    status = r?.status ?? "none";
    code = r?.error?.code;
    why = r?.error?.message;
  } catch {
    status = "no-ack";
  }
  out({ kind: "send", client, start, end: Date.now(), status, code, why, messageId: m.messageId });
  return status;
}

const sockets = [];
const loops = [];
// Three clients that send one message at a time (as most clients do).
for (let n = 0; n < 3; n++) {
  const a = user(`ada${n}`), b = user(`bob${n}`);
  const c = await conversation(a, b);
  const { socket } = await connect(a.token);
  sockets.push(socket);
  if ((await send(socket, `seq${n}`, c)) !== "delivered") throw new Error("the first send failed");
  loops.push((async () => {
    while (running) {
      await send(socket, `seq${n}`, c);
      await sleep(20);
    }
  })());
}
// One client that pipelines bursts of five sends on its socket without waiting for acks.
{
  const a = user("pipe"), b = user("pipe-peer");
  const c = await conversation(a, b);
  const { socket } = await connect(a.token);
  sockets.push(socket);
  loops.push((async () => {
    while (running) {
      await Promise.all([0, 1, 2, 3, 4].map(() => send(socket, "burst", c)));
      await sleep(200);
    }
  })());
}
// The readiness endpoint, polled.
loops.push((async () => {
  while (running) {
    const start = Date.now();
    let status;
    try {
      status = (await rest("GET", "/health/ready")).status;
    } catch {
      status = 0;
    }
    out({ kind: "ready", start, end: Date.now(), status });
    await sleep(100);
  }
})());
out({ kind: "started" });
await Promise.all(loops);
for (const s of sockets) s.close();
out({ kind: "done" });
process.exit(0);
