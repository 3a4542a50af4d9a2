import { describe, expect, it } from 'vitest';
import { mentionedNames, mentionIs, parseInline, parseMarkdown, safeHref, type Block, type Inline } from './markdown';

const text = (v: string): Inline => ({ t: 'text', v });
const p = (...c: Inline[]): Block => ({ t: 'p', c });

/** Every link of a parse, wherever it is. */
function links(blocks: readonly Block[]): string[] {
  const out: string[] = [];
  const visit = (nodes: readonly Inline[]) => {
    for (const n of nodes) {
      if (n.t === 'link') out.push(n.href);
      if (n.t === 'strong' || n.t === 'em' || n.t === 'del') visit(n.c);
    }
  };
  for (const b of blocks) {
    if (b.t === 'p') visit(b.c);
    if (b.t === 'quote') out.push(...links(b.c));
    if (b.t === 'ul' || b.t === 'ol') b.items.forEach(visit);
  }
  return out;
}

describe('inline formatting', () => {
  it('bold, italic, strike and code', () => {
    expect(parseInline('a **b** *c* _d_ ~~e~~ `f*g*`')).toEqual([
      text('a '),
      { t: 'strong', c: [text('b')] },
      text(' '),
      { t: 'em', c: [text('c')] },
      text(' '),
      { t: 'em', c: [text('d')] },
      text(' '),
      { t: 'del', c: [text('e')] },
      text(' '),
      { t: 'code', v: 'f*g*' },
    ]);
  });

  it('nests emphasis inside bold', () => {
    expect(parseInline('**a *b***')).toEqual([{ t: 'strong', c: [text('a '), { t: 'em', c: [text('b')] }] }]);
  });

  it('leaves unmatched, spaced and in-word markers as text', () => {
    expect(parseInline('2 * 3 * 4')).toEqual([text('2 * 3 * 4')]);
    expect(parseInline('snake_case_name')).toEqual([text('snake_case_name')]);
    expect(parseInline('**open')).toEqual([text('**open')]);
    expect(parseInline('\\*not em\\*')).toEqual([text('*not em*')]);
  });

  it('mentions, but not in an e-mail address', () => {
    expect(parseInline('hi @alice, mail bob@example.com')).toEqual([
      text('hi '),
      { t: 'mention', name: 'alice' },
      text(', mail bob@example.com'),
    ]);
    expect(mentionedNames('@Alice and @bob. `@carol` @al @a.b.c')).toEqual(['alice', 'bob', 'a.b.c']);
    expect(parseInline('thanks @bob.')).toEqual([text('thanks '), { t: 'mention', name: 'bob' }, text('.')]);
    expect(mentionIs('bob.', 'Bob')).toBe(true);
    expect(mentionIs('bobby', 'bob')).toBe(false);
  });
});

describe('links', () => {
  it('autolinks http and https URLs without trailing punctuation', () => {
    expect(parseInline('see https://example.com/a?b=1.')).toEqual([
      text('see '),
      { t: 'link', href: 'https://example.com/a?b=1', v: 'https://example.com/a?b=1' },
      text('.'),
    ]);
    expect(links(parseMarkdown('(http://example.com/x_(y))'))).toEqual(['http://example.com/x_(y)']);
  });

  it('never links javascript:, data: or vbscript: URLs, however written', () => {
    const attempts = [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      '[x](javascript:alert(1))',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'http:javascript:alert(1)',
      'https://',
      'xhttps://example.com',
    ];
    for (const body of attempts) expect(links(parseMarkdown(body)), body).toEqual([]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html;base64,PHNjcmlwdD4=')).toBeNull();
    expect(safeHref('https://example.com/')).toBe('https://example.com/');
  });

  it('a quote in a URL ends it (no attribute break-out)', () => {
    expect(links(parseMarkdown('https://example.com/"onmouseover="alert(1)'))).toEqual(['https://example.com/']);
  });
});

describe('HTML is text', () => {
  it('keeps tags and entities as characters', () => {
    for (const body of ['<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '&lt;b&gt; <a href="javascript:x">y</a>']) {
      const blocks = parseMarkdown(body);
      expect(blocks).toEqual([p(text(body))]);
    }
  });
});

describe('blocks', () => {
  it('paragraphs with line breaks, code blocks, quotes and lists', () => {
    const body = ['one', 'two', '', '```', '**not bold**', '<b>', '```', '> quoted *em*', '> more', '- a', '- b', '1. x', '2. y'].join('\n');
    expect(parseMarkdown(body)).toEqual([
      p(text('one'), { t: 'br' }, text('two')),
      { t: 'pre', v: '**not bold**\n<b>' },
      { t: 'quote', c: [p(text('quoted '), { t: 'em', c: [text('em')] }, { t: 'br' }, text('more'))] },
      { t: 'ul', items: [[text('a')], [text('b')]] },
      { t: 'ol', start: 1, items: [[text('x')], [text('y')]] },
    ]);
  });

  it('an unclosed fence runs to the end; deep quotes stop nesting', () => {
    expect(parseMarkdown('```\ncode')).toEqual([{ t: 'pre', v: 'code' }]);
    const deep = parseMarkdown('>>>>>>>> deep');
    let depth = 0;
    let node: Block | undefined = deep[0];
    while (node?.t === 'quote') {
      depth += 1;
      node = node.c[0];
    }
    expect(depth).toBeLessThanOrEqual(4);
  });

  it('parses a long hostile body quickly', () => {
    const body = '*_~`'.repeat(1000);
    const started = performance.now();
    parseMarkdown(body);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
