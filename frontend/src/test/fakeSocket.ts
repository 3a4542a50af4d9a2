// A WebSocket stand-in for tests: records what is sent, lets the test play the server.
import type { ServerFrame } from '../wire';

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static readonly OPEN = 1;
  readonly sent: unknown[] = [];
  readyState = 0;
  closedWith: number | null = null;
  /** Answers each ping with its pong at once, as a live server does. */
  autoPong = false;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeWebSocket.instances.push(this);
  }

  static latest(): FakeWebSocket {
    const ws = FakeWebSocket.instances.at(-1);
    if (ws === undefined) throw new Error('no socket was opened');
    return ws;
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  send(text: string): void {
    const frame = JSON.parse(text) as { type: string; nonce?: number };
    this.sent.push(frame);
    if (this.autoPong && frame.type === 'ping') this.receive({ type: 'pong', nonce: frame.nonce });
  }

  close(code = 1000): void {
    this.closedWith = code;
  }

  /** The server sends a frame. */
  receive(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection ends (server close or network). */
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  sentOfType(type: string): unknown[] {
    return this.sent.filter((f) => (f as { type: string }).type === type);
  }
}

export function hello(heartbeatMs = 20_000): ServerFrame {
  return {
    type: 'hello',
    protocol: 1,
    server: 'gw-test',
    session: 's-1',
    user: { id: '0197a7f0-0000-7000-8000-0000000000a1', username: 'alice' },
    heartbeat_ms: heartbeatMs,
    limits: { max_body_chars: 4000, max_message_bytes: 32768, messages_per_sec: 5, messages_burst: 20, max_rooms: 100 },
  };
}
