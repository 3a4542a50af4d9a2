// Whether the person is at the page: away after AWAY_AFTER_MS without input
// (keys, pointer, touch, wheel; a hidden tab gets none, so it goes away too),
// active again on the next input. Input only stamps a time; one timer checks
// it, so a moving mouse costs nothing.

/** How long without input until the person counts as away. */
export const AWAY_AFTER_MS = 5 * 60_000;

export interface ActivityDeps {
  now: () => number;
  /** Runs `task` after `ms`; returns a function that cancels it. */
  after: (task: () => void, ms: number) => () => void;
  changed: (away: boolean) => void;
}

export class Activity {
  private lastInput: number;
  private away = false;
  private cancel: (() => void) | null = null;

  constructor(private readonly deps: ActivityDeps) {
    this.lastInput = deps.now();
  }

  start(): void {
    this.schedule(AWAY_AFTER_MS);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  /** The person did something. */
  input(): void {
    this.lastInput = this.deps.now();
    if (!this.away) return;
    this.away = false;
    this.deps.changed(false);
    this.schedule(AWAY_AFTER_MS);
  }

  isAway(): boolean {
    return this.away;
  }

  private schedule(ms: number): void {
    this.cancel?.();
    this.cancel = this.deps.after(() => this.check(), ms);
  }

  private check(): void {
    this.cancel = null;
    const idle = this.deps.now() - this.lastInput;
    if (idle < AWAY_AFTER_MS) return this.schedule(AWAY_AFTER_MS - idle);
    this.away = true;
    this.deps.changed(true);
  }
}
