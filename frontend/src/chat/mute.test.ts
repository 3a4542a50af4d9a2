// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { isMuted, setMuted } from './mute';

afterEach(() => localStorage.clear());

describe('mute', () => {
  it('keeps muted rooms in localStorage, across reads', () => {
    expect(isMuted('r1')).toBe(false);
    setMuted('r1', true);
    expect(isMuted('r1')).toBe(true);
    expect(isMuted('r2')).toBe(false);
    expect(JSON.parse(localStorage.getItem('chat.muted-rooms') ?? '[]')).toEqual(['r1']);
    setMuted('r1', false);
    expect(isMuted('r1')).toBe(false);
  });

  it('reads a value another tab wrote, and ignores one that is not a list of ids', () => {
    localStorage.setItem('chat.muted-rooms', JSON.stringify(['r3']));
    expect(isMuted('r3')).toBe(true);
    localStorage.setItem('chat.muted-rooms', '{not json');
    expect(isMuted('r3')).toBe(false);
    localStorage.setItem('chat.muted-rooms', JSON.stringify({ r4: true }));
    expect(isMuted('r4')).toBe(false);
  });
});
