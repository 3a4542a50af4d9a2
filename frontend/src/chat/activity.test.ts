import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AWAY_AFTER_MS, Activity } from './activity';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function tracker() {
  const changes: boolean[] = [];
  const activity = new Activity({
    now: () => Date.now(),
    after: (task, ms) => {
      const timer = setTimeout(task, ms);
      return () => clearTimeout(timer);
    },
    changed: (away) => changes.push(away),
  });
  activity.start();
  return { activity, changes };
}

describe('activity', () => {
  it('goes away after five minutes without input, and comes back on the next', () => {
    const { activity, changes } = tracker();
    vi.advanceTimersByTime(AWAY_AFTER_MS - 1);
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([true]);
    expect(activity.isAway()).toBe(true);
    activity.input();
    activity.input();
    expect(changes).toEqual([true, false]);
  });

  it('input meanwhile puts it off, and says nothing while active', () => {
    const { activity, changes } = tracker();
    vi.advanceTimersByTime(AWAY_AFTER_MS - 1_000);
    activity.input();
    vi.advanceTimersByTime(AWAY_AFTER_MS - 1_000);
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(changes).toEqual([true]);
  });
});
