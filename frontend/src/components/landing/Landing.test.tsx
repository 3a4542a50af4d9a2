// @vitest-environment jsdom
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { byRole, cleanup, click, render } from '../../test/render';
import { Landing } from './Landing';
import type { PreviewRoom } from './preview';

afterEach(cleanup);

const room: PreviewRoom = {
  id: '0190a1b2-0000-7000-8000-0000000000aa',
  name: 'general',
  topic: 'Say hello',
  members: 3,
  messages: [
    { sender: { id: '0190a1b2-0000-7000-8000-000000000001', username: 'alice' }, body: 'hi <b>all</b>', sent_at: '2026-01-01T00:00:00Z' },
  ],
};

async function shown(load: () => Promise<PreviewRoom[] | null>) {
  const onSignUp = vi.fn();
  const onLogIn = vi.fn();
  const view = render(<Landing onSignUp={onSignUp} onLogIn={onLogIn} loadPreview={load} />);
  await act(async () => {});
  return { ...view, onSignUp, onLogIn };
}

describe('Landing', () => {
  it('names the product, says what it is, and calls to sign up or log in', async () => {
    const { container, onSignUp, onLogIn } = await shown(async () => []);
    expect(container.querySelector('h1')?.textContent).toBe('Chat');
    expect(container.querySelector('.landing-lede')?.textContent).toMatch(/^Real-time rooms and direct messages/);
    click(byRole(container, 'button', 'Sign up, it’s free'));
    expect(onSignUp).toHaveBeenCalledTimes(1);
    click(byRole(container, 'button', 'Log in'));
    expect(onLogIn).toHaveBeenCalledTimes(1);
    expect(container.querySelector('.landing-preview')?.textContent).toContain('No public room yet');
  });

  it('shows each public room with its topic, members and recent messages, as text', async () => {
    const { container } = await shown(async () => [room]);
    const card = container.querySelector('.preview-room');
    expect(card?.querySelector('h3')?.textContent).toBe('#general');
    expect(card?.querySelector('.preview-meta')?.textContent).toBe('3 members · Say hello');
    expect(card?.querySelector('.preview-sender')?.textContent).toBe('alice');
    expect(card?.querySelector('.preview-body')?.textContent).toBe('hi <b>all</b>');
    expect(card?.querySelector('b')).toBeNull();
    expect(card?.querySelector('svg.avatar')?.getAttribute('aria-hidden')).toBe('true');
    expect(container.querySelector('.landing-preview')?.getAttribute('aria-busy')).toBe('false');
  });

  it('says so while loading and when the preview cannot be had', async () => {
    let resolve: (rooms: PreviewRoom[] | null) => void = () => {};
    const { container } = await shown(() => new Promise((r) => (resolve = r)));
    expect(container.querySelector('.landing-preview')?.getAttribute('aria-busy')).toBe('true');
    expect(container.querySelector('.landing-preview')?.textContent).toContain('Loading the public rooms');
    await act(async () => resolve(null));
    expect(container.querySelector('.landing-preview')?.textContent).toContain('not available right now');
  });
});
