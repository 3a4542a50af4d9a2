// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageItem } from './MessageItem';
import { PendingItem } from './PendingItem';
import { ALICE, message } from '../../test/fixtures';
import { byRole, cleanup, click, render } from '../../test/render';

afterEach(cleanup);

describe('MessageItem', () => {
  it('renders a body as text, never as HTML', () => {
    const body = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold</b>';
    const { container } = render(<MessageItem message={message(1, { body })} own={false} continued={false} />);
    expect(container.querySelector('img, script, b')).toBeNull();
    expect(container.querySelector('.msg-body')?.textContent).toBe(body);
  });

  it('renders the Markdown subset as elements, and only http(s) links, opening apart', () => {
    const body = '**bold** _em_ ~~gone~~ `x<y>` https://example.com/a javascript:alert(1) [x](javascript:alert(2))\n> quoted\n- item';
    const { container } = render(<MessageItem message={message(1, { body })} own={false} continued={false} />);
    expect(container.querySelector('strong')?.textContent).toBe('bold');
    expect(container.querySelector('em')?.textContent).toBe('em');
    expect(container.querySelector('del')?.textContent).toBe('gone');
    expect(container.querySelector('code')?.textContent).toBe('x<y>');
    expect(container.querySelector('blockquote')?.textContent).toBe('quoted');
    expect(container.querySelector('ul li')?.textContent).toBe('item');
    const links = [...container.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a']);
    expect(links[0]?.getAttribute('target')).toBe('_blank');
    expect(links[0]?.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(container.querySelector('.msg-body')?.getAttribute('dir')).toBe('auto');
    expect(container.querySelector('.msg-sender')?.getAttribute('dir')).toBe('auto');
  });

  it('shows the sender’s avatar on the first message of a run only, not on one’s own', () => {
    const first = render(<MessageItem message={message(1)} own={false} continued={false} />);
    const avatar = first.container.querySelector('.msg-meta svg.avatar');
    expect(avatar?.getAttribute('aria-hidden')).toBe('true');
    expect(avatar?.getAttribute('width')).toBe('20');
    expect(render(<MessageItem message={message(2)} own={false} continued />).container.querySelector('svg.avatar')).toBeNull();
    expect(render(<MessageItem message={message(3)} own continued={false} />).container.querySelector('svg.avatar')).toBeNull();
  });

  it('marks a message that mentions the caller, and the mention itself', () => {
    const { container } = render(<MessageItem message={message(1, { body: 'hi @alice and @carol' })} own={false} continued={false} me={ALICE} />);
    expect(container.querySelector('li')?.classList.contains('msg-mention')).toBe(true);
    expect([...container.querySelectorAll('.mention-me')].map((m) => m.textContent)).toEqual(['@alice']);
  });

  it('shows a deleted message as a tombstone, without its reactions', () => {
    const deleted = message(1, { body: '', deleted: true, reactions: [{ emoji: '👍', count: 1, users: [ALICE], me: true }] });
    const { container } = render(<MessageItem message={deleted} own={false} continued={false} />);
    expect(container.querySelector('.msg-body')?.textContent).toBe('message deleted');
    expect(container.querySelector('.reactions')).toBeNull();
  });

  it('shows topic and moderation events as system lines', () => {
    const { container } = render(
      <MessageItem message={message(1, { op: 'moderation', kind: 'system', body: '', moderation: { action: 'ban', user: ALICE } })} own={false} continued={false} />,
    );
    expect(container.querySelector('.msg-system')?.textContent).toBe('bob banned alice');
  });

  it('marks a bot reply as a bot, in words and in style', () => {
    const { container } = render(<MessageItem message={message(1, { kind: 'bot' })} own={false} continued={false} />);
    expect(container.querySelector('li')?.classList.contains('msg-bot')).toBe(true);
    expect(container.querySelector('.tag-bot')?.textContent).toBe('bot');
  });

  it('keeps the sender readable (folded only visually) for a continued message', () => {
    const { container } = render(<MessageItem message={message(2)} own={false} continued />);
    expect(container.querySelector('.msg-sender')?.textContent).toBe('bob');
  });
});

describe('PendingItem', () => {
  const pending = { room: 'r', clientMsgId: 'c-1', body: 'hello', sender: ALICE, createdAt: 0, retries: 0 } as const;

  it('says it is sending, then sent', () => {
    const { container, rerender } = render(<PendingItem pending={{ ...pending, state: 'sending' }} onRetry={() => {}} />);
    expect(container.querySelector('.msg-state')?.textContent).toBe('Sending…');
    rerender(<PendingItem pending={{ ...pending, state: 'sent' }} onRetry={() => {}} />);
    expect(container.querySelector('.msg-state')?.textContent).toBe('Sent');
    expect(container.querySelector('button')).toBeNull();
  });

  it('offers Retry when it failed, with the reason in an alert', () => {
    const onRetry = vi.fn();
    const failed = { ...pending, state: 'failed' as const, error: { code: 'timeout', message: 'No answer.' } };
    const { container } = render(<PendingItem pending={failed} onRetry={onRetry} />);
    expect(byRole(container, 'alert').textContent).toContain('No answer.');
    click(byRole(container, 'button', 'Retry sending: hello'));
    expect(onRetry).toHaveBeenCalledOnce();
  });
});
