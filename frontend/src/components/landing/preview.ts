// The public preview of the landing page (`GET /api/preview`): read without an
// account, checked by hand so that the first paint carries no schema library.

export interface PreviewMessage {
  sender: { id: string; username: string };
  body: string;
  sent_at: string;
}

export interface PreviewRoom {
  id: string;
  name: string;
  topic: string | null;
  members: number;
  messages: PreviewMessage[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function message(raw: unknown): PreviewMessage | null {
  if (!isObject(raw) || !isObject(raw.sender)) return null;
  const { id, username } = raw.sender;
  if (!isString(id) || !isString(username) || !isString(raw.body) || !isString(raw.sent_at)) return null;
  return { sender: { id, username }, body: raw.body, sent_at: raw.sent_at };
}

function room(raw: unknown): PreviewRoom | null {
  if (!isObject(raw) || !isString(raw.id) || !isString(raw.name) || !Array.isArray(raw.messages)) return null;
  const topic = raw.topic === undefined || raw.topic === null ? null : isString(raw.topic) ? raw.topic : undefined;
  if (topic === undefined || typeof raw.members !== 'number' || !Number.isInteger(raw.members)) return null;
  const messages = raw.messages.map(message);
  if (messages.some((m) => m === null)) return null;
  return { id: raw.id, name: raw.name, topic, members: raw.members, messages: messages as PreviewMessage[] };
}

/** The rooms of a preview body, or null when it is not one. */
export function parsePreview(raw: unknown): PreviewRoom[] | null {
  if (!isObject(raw) || !Array.isArray(raw.rooms)) return null;
  const rooms = raw.rooms.map(room);
  return rooms.some((r) => r === null) ? null : (rooms as PreviewRoom[]);
}

/** Fetches the preview; null when it cannot be had (the page reads fine without it). */
export async function fetchPreview(fetcher: typeof fetch = fetch): Promise<PreviewRoom[] | null> {
  try {
    const response = await fetcher('/api/preview', { credentials: 'omit', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    return parsePreview(await response.json());
  } catch {
    return null;
  }
}
