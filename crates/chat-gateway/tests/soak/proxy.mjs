// A TCP proxy in front of one gateway, so that the soak's chaos can cut connections the way a
// network does: mid-frame, after the server committed a message but before its ack reached the
// client, or by going silent while the server still believes the connection is alive.
//
// Each client tells the proxy which device it is with `?soakDevice=<index>` in its handshake
// (the gateway ignores unknown query parameters), so the chaos can pick a device's connection.
import net from "node:net";

/** Cut kinds. */
export const CUTS = {
  // cut inside the next server->client chunk carrying a send ack (`"duplicate":`), after the
  // server committed the message: the ack is lost after commit
  ack: "ack",
  // cut inside the next server->client chunk, whatever it carries
  down: "down",
  // cut inside the next client->server chunk (a send half-written)
  up: "up",
  // the client side is cut at once; the server side stays open and silent (what the server
  // sends is dropped) for `stallMs`, then closes: a transport the server has not seen die yet
  stall: "stall",
};

export class Proxy {
  /** `target` is `http://host:port`. `onCut(conn, info)` is told about every cut. */
  constructor(target, { onCut = () => {} } = {}) {
    const u = new globalThis.URL(target);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.onCut = onCut;
    this.conns = new Set();
    this.stalledConns = new Set();
    this.nextId = 1;
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this.url);
    }));
  }

  /** The live connections of device `dev`, newest last. */
  of(dev) {
    return [...this.conns].filter((c) => c.dev === dev && !c.cut);
  }

  accept(client) {
    const up = net.connect(this.port, this.host);
    const c = { id: this.nextId++, dev: null, client, up, armed: null, cut: null, head: "" };
    this.conns.add(c);
    client.setNoDelay(true);
    up.setNoDelay(true);
    client.on("data", (chunk) => {
      if (c.dev === null && c.head.length < 4096) {
        c.head += chunk.toString("latin1");
        const m = /[?&]soakDevice=(\d+)/.exec(c.head);
        if (m) c.dev = Number(m[1]);
      }
      if (c.cut) return;
      if (c.armed?.kind === CUTS.up) return this.cutInside(c, chunk, up, c.armed.offset(chunk.length), "client->server");
      up.write(chunk);
    });
    up.on("data", (chunk) => {
      if (c.cut) return; // a stalled connection: the server talks into the void
      const a = c.armed;
      if (a?.kind === CUTS.ack) {
        const at = chunk.indexOf('"duplicate":');
        if (at >= 0) return this.cutInside(c, chunk, client, Math.min(chunk.length - 1, at + a.offset(12)), "server->client (ack)");
      } else if (a?.kind === CUTS.down) {
        return this.cutInside(c, chunk, client, a.offset(chunk.length), "server->client");
      }
      client.write(chunk);
    });
    const gone = () => {
      this.conns.delete(c);
      if (c.cut?.kind === CUTS.stall) {
        // the client side went away; the server side is closed by the stall's own timer
        client.destroy();
        return;
      }
      client.destroy();
      up.destroy();
    };
    client.on("close", gone);
    up.on("close", gone);
    client.on("error", () => {});
    up.on("error", () => {});
  }

  /** Forwards `chunk[0..offset)` to `to`, then destroys both sides. */
  cutInside(c, chunk, to, offset, where) {
    if (offset > 0) to.write(chunk.subarray(0, offset));
    const a = c.armed;
    clearTimeout(a?.fallback);
    c.cut = { kind: a.kind, where, offset, of: chunk.length, at: Date.now() };
    this.onCut(c, c.cut);
    // let the partial chunk leave before the reset
    setImmediate(() => { c.client.destroy(); c.up.destroy(); });
  }

  /**
   * Arms a cut of connection `c`: `kind` one of CUTS; `offset(n)` picks where in a chunk of n
   * bytes; `waitMs` is how long to wait for a matching chunk before cutting at once;
   * `stallMs` for stalls.
   */
  arm(c, kind, { offset = (n) => Math.floor(n / 2), waitMs = 1000, stallMs = 1000 } = {}) {
    if (c.cut || c.armed) return false;
    if (kind === CUTS.stall) {
      c.cut = { kind, where: "stall", stallMs, at: Date.now() };
      this.onCut(c, c.cut);
      c.client.destroy();
      const t = setTimeout(() => c.up.destroy(), stallMs);
      this.stalledConns.add(c);
      c.up.once("close", () => { clearTimeout(t); this.stalledConns.delete(c); });
      return true;
    }
    c.armed = { kind, offset };
    c.armed.fallback = setTimeout(() => {
      if (c.cut) return;
      c.cut = { kind, where: "timeout: cut at once", at: Date.now() };
      this.onCut(c, c.cut);
      c.client.destroy();
      c.up.destroy();
    }, waitMs);
    return true;
  }

  /** Number of stalled server-side connections still open, and of cuts armed but not done. */
  busy() {
    return this.stalledConns.size + [...this.conns].filter((c) => c.armed && !c.cut).length;
  }

  close() {
    for (const c of [...this.conns, ...this.stalledConns]) { c.client.destroy(); c.up.destroy(); }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
