// The WebSocket connection manager: buys a ticket, opens `/ws` with the
// `chat.v1` subprotocol, reconnects with backoff, keeps the connection's token
// fresh with `auth` frames, finds a dead connection within about 5 s with
// pings of its own, drops it at once when the browser goes offline and
// reconnects at once when it comes back, paces control frames under the
// server's limit, and reports its state for the banner.
import { parseServerFrame, type ClientFrame, type ServerFrame, type ServerFrameOf } from '../wire';
import { ApiError } from './http';
import { backoffDelay, TokenBucket } from './backoff';

export const SUBPROTOCOL = 'chat.v1';

export type ConnectionStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'stopped';

export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** Failed attempts since the last successful connection. */
  readonly attempt: number;
  /** When the next attempt starts (ms since 1970), while reconnecting. */
  readonly retryAt: number | null;
  /** The browser says there is no network (`offline` event). */
  readonly offline?: boolean;
}

export interface SocketDeps {
  /** `POST /api/ws-ticket`. */
  ticket: () => Promise<string>;
  /** An access token valid for at least this long, or null when logged out. */
  freshToken: (minValidityMs: number) => Promise<string | null>;
  tokenExpiresAt: () => number | null;
  /** ws(s)://host of the site, without a path. */
  url: string;
  WebSocket?: typeof WebSocket;
  now?: () => number;
  random?: () => number;
}

export interface SocketEvents {
  /** A connection is ready (after `hello`): subscribe to the open rooms. */
  onReady: (hello: ServerFrameOf<'hello'>) => void;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState) => void;
  /** The login has ended (no ticket without one); the socket has stopped. */
  onAuthLost: () => void;
}

/** Send `auth` this long before the connection's token expires. */
const AUTH_AHEAD_MS = 60_000;
/** Server close codes after which a reconnect need not wait long. */
const GOING_AWAY = 1001;
/** Our own close code for a connection that stopped answering. */
const CLOSE_DEAD = 4000;
/**
 * A ping at least this often (the server's `heartbeat_ms` if shorter), and a
 * connection that has not answered one within PONG_WAIT_MS is dead: a dropped
 * network is noticed within PING_EVERY_MS + PONG_WAIT_MS (the server's own
 * WebSocket pings are answered by the browser, unseen by the page).
 */
export const PING_EVERY_MS = 2_000;
export const PONG_WAIT_MS = 3_000;
/** Non-send frames: the server allows 20/s, bursts of 60; stay under. */
const CONTROL_BURST = 40;
const CONTROL_PER_SEC = 15;

export class ChatSocket {
  private readonly WS: typeof WebSocket;
  private readonly now: () => number;
  private readonly random: () => number;
  private ws: WebSocket | null = null;
  private ready = false;
  private everReady = false;
  private connecting = false;
  private stopped = true;
  private attempt = 0;
  private state: ConnectionState = { status: 'idle', attempt: 0, retryAt: null };
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private authTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private pingSentAt = 0;
  private offline = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private lastHeard = 0;
  private nonce = 0;
  private connectionExpiresAt: number | null = null;
  private readonly queue: ClientFrame[] = [];
  private readonly bucket: TokenBucket;

  constructor(
    private readonly deps: SocketDeps,
    private readonly events: SocketEvents,
  ) {
    this.WS = deps.WebSocket ?? globalThis.WebSocket;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.bucket = new TokenBucket(CONTROL_BURST, CONTROL_PER_SEC, this.now);
  }

  get connection(): ConnectionState {
    return this.state;
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.everReady = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.teardown();
    this.ws?.close(1000, 'bye');
    this.ws = null;
    this.setState({ status: 'stopped', attempt: 0, retryAt: null });
  }

  /** Skips the wait of a pending reconnect (the banner's button, the browser coming online). */
  retryNow(): void {
    if (!this.stopped) void this.connect();
  }

  /**
   * The browser's `online`/`offline` events. Offline, the connection is dead
   * or about to be: dropped at once (the banner shows at once); attempts go
   * on with backoff, in case the browser is wrong. Online: reconnect at once.
   */
  networkChanged(online: boolean): void {
    this.offline = !online;
    if (online) {
      // An attempt begun offline may hang: start afresh.
      const pending = this.ws;
      if (pending !== null && !this.ready) {
        this.ws = null;
        this.teardown();
        pending.close(CLOSE_DEAD, 'network changed');
      }
      this.attempt = 0;
      this.setState({ ...this.state });
      this.retryNow();
      return;
    }
    const ws = this.ws;
    if (ws !== null) this.dropDead(ws);
    else this.setState({ ...this.state });
  }

  /**
   * Sends a frame on a ready connection; false when there is none (the caller
   * keeps what it needs to resend after `onReady`). `send` frames go at once
   * (the server paces them with its own limits); others are paced.
   */
  send(frame: ClientFrame): boolean {
    if (!this.ready || this.ws === null) return false;
    if (frame.type === 'send' || (this.queue.length === 0 && this.bucket.take())) {
      this.ws.send(JSON.stringify(frame));
    } else {
      this.queue.push(frame);
      this.scheduleFlush();
    }
    return true;
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.ws !== null) return;
    this.connecting = true;
    clearTimeout(this.retryTimer);
    this.setState({ status: this.everReady ? 'reconnecting' : 'connecting', attempt: this.attempt, retryAt: null });
    try {
      await this.open();
    } finally {
      this.connecting = false;
    }
  }

  private async open(): Promise<void> {
    const expiresBefore = this.deps.tokenExpiresAt();
    let ticket: string;
    try {
      ticket = await this.deps.ticket();
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof ApiError && error.status === 401) {
        this.stop();
        this.events.onAuthLost();
      } else {
        this.scheduleReconnect(false);
      }
      return;
    }
    if (this.stopped) return;
    // The connection lives as long as the token the ticket was bought with.
    this.connectionExpiresAt = expiresBefore ?? this.deps.tokenExpiresAt();
    let ws: WebSocket;
    try {
      ws = new this.WS(`${this.deps.url}/ws?ticket=${encodeURIComponent(ticket)}`, SUBPROTOCOL);
    } catch {
      this.scheduleReconnect(false);
      return;
    }
    this.ws = ws;
    ws.onmessage = (event: MessageEvent) => {
      if (this.ws !== ws || typeof event.data !== 'string') return;
      this.lastHeard = this.now();
      const frame = parseServerFrame(event.data);
      if (frame === null) return;
      if (frame.type === 'hello') this.onHello(frame);
      else if (this.ready) this.events.onFrame(frame);
    };
    ws.onclose = (event: CloseEvent) => this.closed(ws, event.code);
    // An error is always followed by a close; nothing to do here.
    ws.onerror = () => {};
  }

  private closed(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.teardown();
    if (!this.stopped) this.scheduleReconnect(code === GOING_AWAY);
  }

  private onHello(hello: ServerFrameOf<'hello'>): void {
    this.ready = true;
    this.everReady = true;
    this.attempt = 0;
    this.lastHeard = this.now();
    this.setState({ status: 'online', attempt: 0, retryAt: null });
    this.startHeartbeat(hello.heartbeat_ms);
    this.scheduleAuth();
    this.events.onReady(hello);
  }

  private scheduleReconnect(soon: boolean): void {
    const delay = soon ? Math.round(this.random() * 1000) : backoffDelay(this.attempt, this.random);
    this.attempt += 1;
    this.setState({ status: 'reconnecting', attempt: this.attempt, retryAt: this.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /**
   * Pings every PING_EVERY_MS (or heartbeat, if shorter); a ping not answered
   * (nothing heard since it went) within PONG_WAIT_MS means a dead connection
   * (a lost network, a sleeping laptop, a lost route).
   */
  private startHeartbeat(heartbeatMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.ping(), Math.min(heartbeatMs, PING_EVERY_MS));
  }

  private ping(): void {
    const ws = this.ws;
    if (ws === null || !this.ready) return;
    this.nonce += 1;
    // Past the pacing queue: one frame every 2 s, and its answer times the connection.
    ws.send(JSON.stringify({ type: 'ping', nonce: this.nonce } satisfies ClientFrame));
    // The deadline of the oldest ping not answered yet stands.
    if (this.pongTimer !== undefined && this.lastHeard < this.pingSentAt) return;
    clearTimeout(this.pongTimer);
    const sentAt = this.now();
    this.pingSentAt = sentAt;
    this.pongTimer = setTimeout(() => {
      this.pongTimer = undefined;
      if (this.ws === ws && this.lastHeard < sentAt) this.dropDead(ws);
    }, PONG_WAIT_MS);
  }

  private dropDead(ws: WebSocket): void {
    ws.close(CLOSE_DEAD, 'no answer');
    // A dead connection's close handshake may never finish: do not wait for it.
    this.closed(ws, CLOSE_DEAD);
  }

  /** Sends a fresher token before the connection's one expires (else the server closes with 1008). */
  private scheduleAuth(): void {
    clearTimeout(this.authTimer);
    if (this.connectionExpiresAt === null) return;
    const delay = Math.max(5_000, this.connectionExpiresAt - this.now() - AUTH_AHEAD_MS);
    this.authTimer = setTimeout(() => void this.renewAuth(), delay);
  }

  private async renewAuth(): Promise<void> {
    let token: string | null = null;
    try {
      token = await this.deps.freshToken(2 * AUTH_AHEAD_MS);
    } catch {
      // Unreachable for now: try again shortly (a close with 1008 is the worst case, and it reconnects).
      this.authTimer = setTimeout(() => void this.renewAuth(), 10_000);
      return;
    }
    if (token === null || !this.ready) return;
    if (this.send({ type: 'auth', token })) {
      this.connectionExpiresAt = this.deps.tokenExpiresAt();
      this.scheduleAuth();
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      while (this.queue.length > 0 && this.ready && this.ws !== null && this.bucket.take()) {
        this.ws.send(JSON.stringify(this.queue.shift()));
      }
      if (this.queue.length > 0 && this.ready) this.scheduleFlush();
    }, this.bucket.waitMs());
  }

  private teardown(): void {
    this.ready = false;
    this.queue.length = 0;
    clearTimeout(this.retryTimer);
    clearTimeout(this.authTimer);
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    clearInterval(this.heartbeat);
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private setState(state: ConnectionState): void {
    this.state = { ...state, offline: this.offline };
    this.events.onState(this.state);
  }
}

/** The WebSocket base URL of the page's own site: ws://host or wss://host. */
export function siteWebSocketUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
}
