// A message body: the Markdown subset of text/markdown.ts as React elements.
// No HTML is ever parsed or injected; links are http(s) only and open apart
// (`noopener noreferrer nofollow`); mentions of the caller stand out.
import { memo, useMemo, type ReactNode } from 'react';
import { mentionIs, parseMarkdown, type Block, type Inline } from '../../text/markdown';

export const MessageBody = memo(function MessageBody({ body, me }: { body: string; me: string }) {
  const blocks = useMemo(() => parseMarkdown(body), [body]);
  return (
    <div className="msg-body" dir="auto">
      {blocks.map((b, i) => renderBlock(b, i, me))}
    </div>
  );
});

function renderBlock(b: Block, key: number, me: string): ReactNode {
  switch (b.t) {
    case 'p':
      return <p key={key}>{renderInline(b.c, me)}</p>;
    case 'pre':
      return (
        <pre key={key} dir="ltr">
          <code>{b.v}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={key}>{b.c.map((c, i) => renderBlock(c, i, me))}</blockquote>;
    case 'ul':
      return (
        <ul key={key}>
          {b.items.map((item, i) => (
            <li key={i}>{renderInline(item, me)}</li>
          ))}
        </ul>
      );
    case 'ol':
      return (
        <ol key={key} start={b.start}>
          {b.items.map((item, i) => (
            <li key={i}>{renderInline(item, me)}</li>
          ))}
        </ol>
      );
  }
}

function renderInline(nodes: readonly Inline[], me: string): ReactNode[] {
  return nodes.map((n, key) => {
    switch (n.t) {
      case 'text':
        return n.v;
      case 'br':
        return <br key={key} />;
      case 'code':
        return <code key={key}>{n.v}</code>;
      case 'strong':
        return <strong key={key}>{renderInline(n.c, me)}</strong>;
      case 'em':
        return <em key={key}>{renderInline(n.c, me)}</em>;
      case 'del':
        return <del key={key}>{renderInline(n.c, me)}</del>;
      case 'link':
        return (
          <a key={key} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
            {n.v}
          </a>
        );
      case 'mention': {
        const mine = mentionIs(n.name, me) || n.name.toLowerCase() === 'room';
        return (
          <span key={key} className={mine ? 'mention mention-me' : 'mention'}>
            @{n.name}
          </span>
        );
      }
    }
  });
}
