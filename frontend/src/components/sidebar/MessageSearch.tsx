// Searching the messages of the caller's rooms (GET /api/search): results
// with their matching words marked (built from the snippet's parts, never
// HTML); opening one opens its room at that message.
import { useId, useState, type FormEvent } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { SearchResult, SnippetPart } from '../../wire';
import { shortTime } from '../common/format';

const QUERY_MAX = 200;

export function MessageSearch() {
  const controller = useController();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<readonly SearchResult[] | null>(null);
  const [more, setMore] = useState(false);
  const [searched, setSearched] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = useId();

  async function run(q: string, offset: number) {
    setBusy(true);
    setError(null);
    try {
      const found = await controller.searchMessages(q, offset);
      setResults((before) => (offset === 0 || before === null ? found.results : [...before, ...found.results]));
      setMore(found.has_more);
      setSearched(q);
    } catch (caught) {
      setError(errorText(caught, 'Search failed.'));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const q = query.trim();
    if (q === '') {
      setResults(null);
      return;
    }
    void run(q, 0);
  }

  return (
    <div className="message-search">
      <form role="search" aria-label="Messages" onSubmit={submit}>
        <label htmlFor={`${ids}-q`} className="visually-hidden">
          Search messages
        </label>
        <div className="inline-field">
          <input
            id={`${ids}-q`}
            type="search"
            placeholder="Search messages"
            autoComplete="off"
            maxLength={QUERY_MAX}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button type="submit" disabled={busy}>
            Search
          </button>
        </div>
      </form>
      <p className="form-error" role="alert">
        {error}
      </p>
      {results !== null && (
        <section aria-label="Message search results" className="search-results">
          <p className="muted" role="status">
            {results.length === 0 ? `No message matches “${searched}”.` : `${results.length}${more ? '+' : ''} ${results.length === 1 ? 'message' : 'messages'} match “${searched}”.`}
          </p>
          <ul className="plain-list">
            {results.map((r) => (
              <li key={r.id}>
                <button type="button" className="search-hit" onClick={() => void controller.jumpTo(r.room.id, r.id, r.seq)}>
                  <span className="search-hit-meta">
                    <span dir="auto">#{r.room.name}</span> · <span dir="auto">{r.sender.username}</span> · {shortTime(r.sent_at)}
                  </span>
                  <Snippet parts={r.snippet} />
                </button>
              </li>
            ))}
          </ul>
          {more && (
            <button type="button" disabled={busy} onClick={() => void run(searched, results.length)}>
              More results
            </button>
          )}
        </section>
      )}
    </div>
  );
}

export function Snippet({ parts }: { parts: readonly SnippetPart[] }) {
  return (
    <span className="snippet" dir="auto">
      {parts.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}
