// Drops the bot's drafts that went silent (DRAFT_TTL_MS without an update):
// one timer at a time, due when the first draft would expire, set again while
// drafts remain. A draft updated meanwhile just moves the next sweep later.
export interface DraftExpiryDeps {
  now: () => number;
  /** When the first draft expires (ms since 1970), or null when there is none. */
  nextExpiry: () => number | null;
  /** Drops the drafts expired at `now`. */
  expire: (now: number) => void;
}

export class DraftExpiry {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: DraftExpiryDeps) {}

  /** A draft arrived: makes sure a sweep is due. */
  arm(): void {
    if (this.timer !== undefined) return;
    const next = this.deps.nextExpiry();
    if (next === null) return;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, next - this.deps.now()));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    this.timer = undefined;
    this.deps.expire(this.deps.now());
    this.arm();
  }
}
