// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ALICE, BOB } from '../../test/fixtures';
import { cleanup, click, render } from '../../test/render';
import { Reactions, whoReacted } from './Reactions';

afterEach(cleanup);

const carol = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'carol' };

describe('whoReacted', () => {
  it('names who reacted, then how many more', () => {
    expect(whoReacted({ emoji: '👍', count: 1, users: [ALICE], me: true })).toBe('alice');
    expect(whoReacted({ emoji: '👍', count: 3, users: [ALICE, BOB, carol], me: true })).toBe('alice, bob and carol');
    expect(whoReacted({ emoji: '👍', count: 53, users: [ALICE, BOB], me: false })).toBe('alice, bob and 51 others');
  });
});

describe('Reactions', () => {
  it('shows chips with counts, who reacted as the title, one’s own pressed; a click toggles', () => {
    const onToggle = vi.fn();
    const { container } = render(
      <Reactions
        reactions={[
          { emoji: '👍', count: 2, users: [ALICE, BOB], me: true },
          { emoji: '🎉', count: 1, users: [BOB], me: false },
        ]}
        onToggle={onToggle}
      />,
    );
    const chips = [...container.querySelectorAll('button')];
    expect(chips.map((c) => [c.textContent, c.title, c.getAttribute('aria-pressed')])).toEqual([
      ['👍 2', 'alice and bob', 'true'],
      ['🎉 1', 'bob', 'false'],
    ]);
    click(chips[1] as HTMLElement);
    expect(onToggle).toHaveBeenCalledWith('🎉');
  });
});
