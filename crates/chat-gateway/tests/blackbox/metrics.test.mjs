// What `/metrics` exposes to an operator (contract 6, /metrics).
// Covers: no client can grow the number of series: after requests with 50 random methods on
// known and unknown paths, `http_requests_total` has at most the fixed set of method labels plus
// `other`, and its `route` label is a route template (never a raw path); every series has a
// `# HELP` line; the process figures (resident memory, CPU seconds, open fds, start time), the
// build info and the database pool are there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { user, connect, ack, message, rest, startGateway, within, closeAll } from "./lib.mjs";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"]);

/** { name, labels: {k: v}, value } of every sample line. */
function samples(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The family a sample belongs to (a histogram's `_bucket`, `_sum`, `_count` are its own). */
function family(name, helped) {
  if (helped.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return base;
}

test("/metrics: client-chosen methods and paths cannot add series; every series has HELP", async () => {
  const g = await startGateway();
  const sockets = [];
  try {
    // some traffic of every kind, so the socket and message series exist too
    const a = user("metrics"), b = user("metrics2");
    const c = (await rest("POST", "/conversations/create/one-to-one", { base: g.url, token: a.token, body: { participantId: b.id } })).body.conversationId;
    const A = await connect(a.token, { url: g.url });
    sockets.push(A);
    await ack(A.socket, "message:send", message(c, "counted"));
    for (let i = 0; i < 50; i++) {
      const method = `M${randomBytes(5).toString("hex").toUpperCase()}`;
      const known = await fetch(`${g.url}/health/live`, { method });
      assert.ok(known.status >= 400, `${method} /health/live: ${known.status}`);
      await fetch(`${g.url}/no-such/${randomUUID()}`, { method });
      await fetch(`${g.url}/conversations/${randomUUID()}/messages`, { method });
    }
    const text = await (await fetch(`${g.url}/metrics`)).text();
    const all = samples(text);

    const http = all.filter((s) => s.name === "http_requests_total");
    assert.ok(http.length > 0, text);
    const methods = new Set(http.map((s) => s.labels.method));
    assert.ok(methods.has("other"), `unknown methods count as other: ${[...methods]}`);
    for (const m of methods) assert.ok(METHODS.has(m), `method label ${m}`);
    const routes = new Set(http.map((s) => s.labels.route));
    for (const r of routes) {
      assert.ok(r === "unmatched" || r.startsWith("/"), `route label ${r}`);
      assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(r), `a raw path became a route label: ${r}`);
    }
    assert.ok(routes.has("/conversations/{id}/messages"), `route templates: ${[...routes]}`);
    const total = http.reduce((n, s) => n + s.value, 0);
    assert.ok(total >= 150, `every request was counted (${total})`);
    assert.ok(http.length <= 40, `${http.length} series of http_requests_total for 150 requests`);

    const helped = new Set([...text.matchAll(/^# HELP (\S+) \S/gm)].map((m) => m[1]));
    const missing = [...new Set(all.map((s) => family(s.name, helped)))].filter((f) => !helped.has(f));
    assert.deepEqual(missing, [], `series without # HELP: ${missing}`);

    const one = (name) => {
      const found = all.filter((s) => s.name === name);
      assert.equal(found.length, 1, `${name} in\n${text}`);
      return found[0];
    };
    assert.ok(one("process_resident_memory_bytes").value > 1e6);
    assert.ok(one("process_cpu_seconds_total").value > 0);
    assert.ok(one("process_open_fds").value > 3);
    const started = one("process_start_time_seconds").value;
    assert.ok(Math.abs(started - Date.now() / 1000) < 600, `start time ${started}`);
    const build = one("chat_build_info");
    assert.equal(build.value, 1);
    assert.match(build.labels.version ?? "", /^\d+\.\d+\.\d+/);
    const pool = all.filter((s) => s.name === "chat_db_pool_connections");
    assert.deepEqual(pool.map((s) => s.labels.state).sort(), ["idle", "in_use"]);
    assert.ok(pool.reduce((n, s) => n + s.value, 0) >= 1, "the pool holds a connection");
  } finally {
    closeAll(sockets);
    g.proc.kill("SIGTERM");
    await within(g.exited, 5000);
    if (g.proc.exitCode === null) g.proc.kill("SIGKILL");
  }
});
