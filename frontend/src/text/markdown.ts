// The Markdown subset of message bodies, parsed into a small tree that
// MessageBody renders as React elements (never HTML, never innerHTML): bold
// (**x**), italic (*x* or _x_), strike (~~x~~), inline code, fenced code
// blocks, quotes (> ), lists (- , * , 1. ), autolinked http(s) URLs and
// @mentions. Anything else stays text; `<script>` is just characters. Only
// http: and https: URLs become links. Bounded: a body is at most 4,000
// characters, nesting at most MAX_DEPTH levels.

export type Inline =
  | { readonly t: 'text'; readonly v: string }
  | { readonly t: 'code'; readonly v: string }
  | { readonly t: 'strong' | 'em' | 'del'; readonly c: readonly Inline[] }
  | { readonly t: 'link'; readonly href: string; readonly v: string }
  | { readonly t: 'mention'; readonly name: string }
  | { readonly t: 'br' };

export type Block =
  | { readonly t: 'p'; readonly c: readonly Inline[] }
  | { readonly t: 'pre'; readonly v: string }
  | { readonly t: 'quote'; readonly c: readonly Block[] }
  | { readonly t: 'ul'; readonly items: readonly (readonly Inline[])[] }
  | { readonly t: 'ol'; readonly start: number; readonly items: readonly (readonly Inline[])[] };

const MAX_DEPTH = 4;
const FENCE = /^ {0,3}```/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^ {0,3}[-*+] +(.*)$/;
const ORDERED = /^ {0,3}(\d{1,9})[.)] +(.*)$/;
/** A mention as the gateway reads it: `@` and 3 to 32 of these, not inside a word. */
const MENTION = /^@([A-Za-z0-9_.-]{3,32})/;
const URL_START = /^https?:\/\//i;
const URL_RUN = /^[^\s<>"'`]+/;

export function parseMarkdown(body: string, depth = 0): Block[] {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i += 1;
    } else if (FENCE.test(line)) {
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !FENCE.test(lines[i] as string)) code.push(lines[i++] as string);
      i += 1; // the closing fence (or the end)
      blocks.push({ t: 'pre', v: code.join('\n') });
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i] as string)) quoted.push((QUOTE.exec(lines[i++] as string) as RegExpExecArray)[1] as string);
      blocks.push({ t: 'quote', c: parseMarkdown(quoted.join('\n'), depth + 1) });
    } else if (BULLET.test(line)) {
      const items: Inline[][] = [];
      while (i < lines.length && BULLET.test(lines[i] as string)) items.push(parseInline((BULLET.exec(lines[i++] as string) as RegExpExecArray)[1] as string));
      blocks.push({ t: 'ul', items });
    } else if (ORDERED.test(line)) {
      const start = Number((ORDERED.exec(line) as RegExpExecArray)[1]);
      const items: Inline[][] = [];
      while (i < lines.length && ORDERED.test(lines[i] as string)) items.push(parseInline((ORDERED.exec(lines[i++] as string) as RegExpExecArray)[2] as string));
      blocks.push({ t: 'ol', start, items });
    } else {
      const para: string[] = [];
      while (i < lines.length && (lines[i] as string).trim() !== '' && (para.length === 0 || !startsBlock(lines[i] as string))) para.push(lines[i++] as string);
      const c: Inline[] = [];
      para.forEach((text, n) => {
        if (n > 0) c.push({ t: 'br' });
        c.push(...parseInline(text));
      });
      blocks.push({ t: 'p', c });
    }
  }
  return blocks;
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || QUOTE.test(line) || BULLET.test(line) || ORDERED.test(line);
}

const DELIMITERS: readonly (readonly [string, 'strong' | 'em' | 'del'])[] = [
  ['**', 'strong'],
  ['__', 'strong'],
  ['~~', 'del'],
  ['*', 'em'],
  ['_', 'em'],
];

const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);

/** Parses one line of text into inline nodes. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') out.push({ t: 'text', v: plain });
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    const rest = text.slice(i);
    const before = text[i - 1];
    // A backslash makes the next punctuation literal.
    if (ch === '\\' && i + 1 < text.length && /[\\`*_~@>#[\]()-]/.test(text[i + 1] as string)) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: 'code', v: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && !isWordChar(before) && URL_START.test(rest)) {
      const link = takeUrl(rest);
      if (link !== null) {
        flush();
        out.push({ t: 'link', href: link.href, v: link.text });
        i += link.text.length;
        continue;
      }
    }
    if (ch === '@' && !isWordChar(before)) {
      // A trailing `.` ends the name (the end of a sentence), as the gateway reads it.
      const name = MENTION.exec(rest)?.[1]?.replace(/\.+$/, '');
      if (name !== undefined && name.length >= 3) {
        flush();
        out.push({ t: 'mention', name });
        i += name.length + 1;
        continue;
      }
    }
    if ((ch === '*' || ch === '_' || ch === '~') && depth < MAX_DEPTH) {
      const span = takeEmphasis(text, i, depth);
      if (span !== null) {
        flush();
        out.push(span.node);
        i = span.end;
        continue;
      }
    }
    plain += ch;
    i += 1;
  }
  flush();
  return out;
}

function takeEmphasis(text: string, i: number, depth: number): { node: Inline; end: number } | null {
  for (const [delim, t] of DELIMITERS) {
    if (!text.startsWith(delim, i)) continue;
    // `_` only at word edges, so snake_case_names stay as they are.
    if (delim[0] === '_' && isWordChar(text[i - 1])) continue;
    const open = i + delim.length;
    const first = text[open];
    if (first === undefined || /\s/.test(first) || text.startsWith(delim[0] as string, open)) continue;
    let close = text.indexOf(delim, open + 1);
    while (close !== -1) {
      // `***` closing `**`: the last two close it, the first closes what is inside.
      while (delim.length === 2 && text[close + 2] === delim[0]) close += 1;
      const last = text[close - 1] as string;
      const after = text[close + delim.length];
      const okEdge = delim[0] !== '_' || !isWordChar(after);
      // A single `*` must not be half of a `**`.
      const single = delim.length === 1 && text[close + 1] === delim;
      if (!/\s/.test(last) && okEdge && !single) break;
      close = text.indexOf(delim, close + 1);
    }
    if (close === -1) continue;
    const inner = text.slice(open, close);
    return { node: { t, c: parseInline(inner, depth + 1) }, end: close + delim.length };
  }
  return null;
}

/**
 * An http(s) URL at the start of `text`, without trailing punctuation (and
 * without a closing parenthesis it did not open). Null if it does not parse
 * as an http: or https: URL.
 */
export function takeUrl(text: string): { href: string; text: string } | null {
  const run = URL_RUN.exec(text);
  if (run === null) return null;
  let candidate = run[0];
  for (;;) {
    const last = candidate.at(-1);
    if (last !== undefined && '.,;:!?*_~'.includes(last)) candidate = candidate.slice(0, -1);
    else if (last === ')' && count(candidate, '(') < count(candidate, ')')) candidate = candidate.slice(0, -1);
    else break;
  }
  return safeHref(candidate) === null ? null : { href: safeHref(candidate) as string, text: candidate };
}

/** The URL if it is http: or https: and has a host; null otherwise (javascript:, data:, ...). */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
  return url.href;
}

function count(text: string, ch: string): number {
  let n = 0;
  for (const c of text) if (c === ch) n += 1;
  return n;
}

/** The names a body mentions (`@name`, lower-cased, in order, once each), outside code. */
export function mentionedNames(body: string): string[] {
  const names = new Set<string>();
  const visit = (nodes: readonly Inline[]) => {
    for (const n of nodes) {
      if (n.t === 'mention') names.add(n.name.toLowerCase());
      else if (n.t === 'strong' || n.t === 'em' || n.t === 'del') visit(n.c);
    }
  };
  const walk = (blocks: readonly Block[]) => {
    for (const b of blocks) {
      if (b.t === 'p') visit(b.c);
      else if (b.t === 'quote') walk(b.c);
      else if (b.t === 'ul' || b.t === 'ol') b.items.forEach(visit);
    }
  };
  walk(parseMarkdown(body));
  return [...names];
}

/** Whether a mention's name names `username` (a sentence's full stop after it is not part of it). */
export function mentionIs(name: string, username: string): boolean {
  const n = name.toLowerCase();
  const u = username.toLowerCase();
  return n === u || n.replace(/[.-]+$/, '') === u;
}
