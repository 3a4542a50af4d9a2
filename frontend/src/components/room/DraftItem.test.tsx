// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import type { BotDraft } from '../../store/drafts';
import { cleanup, render } from '../../test/render';
import { DraftItem } from './DraftItem';

afterEach(cleanup);

const draft: BotDraft = {
  id: '0197a7f0-0000-7000-8000-00000000000b',
  replyTo: '0197a7f0-0000-7000-8000-00000000000a',
  sender: { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bot' },
  body: 'Two plus',
  updatedAt: 0,
};

describe('DraftItem', () => {
  it('shows the text so far as a bot reply, with a writing indicator that is a polite status', () => {
    const { container } = render(<DraftItem draft={draft} />);
    const item = container.querySelector('li');
    expect(item?.classList.contains('msg-bot')).toBe(true);
    expect(item?.classList.contains('msg-draft')).toBe(true);
    expect(container.querySelector('.msg-sender')?.textContent).toBe('bot');
    expect(container.querySelector('.tag-bot')?.textContent).toBe('bot');
    const status = container.querySelector('[role="status"]');
    expect(status?.textContent).toBe('bot is writing…');
    expect(status?.querySelector('.visually-hidden')?.textContent).toBe('bot is ');
    const body = container.querySelector('.msg-body');
    expect(body?.textContent).toBe('Two plus');
    expect(body?.getAttribute('aria-busy')).toBe('true');
  });

  it('renders the body as text, never as HTML', () => {
    const body = '<b>html</b><img src=x onerror="alert(1)"><script>alert(2)</script>';
    const { container } = render(<DraftItem draft={{ ...draft, body }} />);
    expect(container.querySelector('.msg-body b, img, script')).toBeNull();
    expect(container.querySelector('.msg-body')?.textContent).toBe(body);
  });

  it('shows only the indicator while there is no text yet', () => {
    const { container } = render(<DraftItem draft={{ ...draft, body: '' }} />);
    expect(container.querySelector('.msg-body')).toBeNull();
    expect(container.querySelector('[role="status"]')?.textContent).toBe('bot is writing…');
  });
});
