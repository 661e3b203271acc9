// The globals app.js uses that no library declares: `io` from the vendored Socket.IO bundle
// (vendor/socket.io.min.js, socket.io-client 4.8.4), as much of it as app.js uses, and the
// `chatApp` handle it leaves for the console and the browser tests. Payload types are in
// protocol.d.ts, generated from the Rust types.

/** The options of `io()` app.js passes. */
interface SocketOptions {
  /** The handshake's `auth`, or a function called with a callback on every (re)connect. */
  auth?: object | ((cb: (auth: object) => void) => void);
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

/** A Socket.IO client socket (socket.io-client's `Socket`, the part app.js uses). */
interface Socket {
  /** Whether the socket is connected. */
  readonly connected: boolean;
  /** Whether it reconnects by itself (false after a refusal or `disconnect()`). */
  readonly active: boolean;
  on(event: string, listener: (...args: any[]) => void): this;
  connect(): this;
  disconnect(): this;
  /** The next emit fails with an error after `ms` without an ack. */
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<any> };
}

/** Set by vendor/socket.io.min.js. */
declare var io: (options?: SocketOptions) => Socket;
/** Set by app.js: its state, for the console and the browser tests. */
declare var chatApp: unknown;
