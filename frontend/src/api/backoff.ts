// Reconnect delays: exponential, capped, with jitter so that clients dropped
// together (a gateway restart) do not come back together.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (0 for the first): half of the
 * exponential step fixed, the other half random ("equal jitter").
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, options = RECONNECT_BACKOFF): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A token bucket: `take()` says whether a frame may go now. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until `take()` can succeed. */
  waitMs(): number {
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
