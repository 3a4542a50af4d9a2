// Sentences for people from failed calls and refused frames: chosen by the
// error's code (and status), never by the server's text, except where that
// text is the explanation (`invalid`: why a name was refused; `conflict`),
// and then made a sentence.
import { ApiError } from '../api/http';

/** What the caller was doing, for the codes whose meaning depends on it. */
export type ErrorContext = 'invite' | 'direct' | 'join' | 'room' | 'other';

/** "in 5 seconds", "in 2 minutes", "in 1 hour": a `Retry-After` for people. */
export function inTime(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `in ${s} ${s === 1 ? 'second' : 'seconds'}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `in ${m} ${m === 1 ? 'minute' : 'minutes'}`;
  const h = Math.ceil(m / 60);
  return `in ${h} ${h === 1 ? 'hour' : 'hours'}`;
}

/** The server's own explanation ("that name is reserved") as a sentence ("That name is reserved."). */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

const FORBIDDEN: Record<ErrorContext, string> = {
  invite: 'You cannot invite this person: only the room’s owner invites, and not someone who has blocked them.',
  direct: 'You cannot message this person.',
  join: 'This room is private: only its owner can add you.',
  room: 'You are not a member of this room.',
  other: 'You are not allowed to do that.',
};

const NOT_FOUND: Record<ErrorContext, string> = {
  invite: 'Nobody has that username.',
  direct: 'Nobody has that username.',
  join: 'That room no longer exists.',
  room: 'That room no longer exists.',
  other: 'It no longer exists.',
};

export function errorText(error: unknown, fallback: string, context: ErrorContext = 'other'): string {
  if (!(error instanceof ApiError)) return fallback;
  const later = error.retryAfterSecs !== undefined ? `Try again ${inTime(error.retryAfterSecs)}.` : 'Try again later.';
  switch (error.code) {
    case 'network':
      return 'Could not reach the server. Check your connection.';
    case 'rate_limited':
      return `Too many attempts. ${later}`;
    case 'busy':
      return `The server is busy right now. ${later}`;
    case 'cross_site':
      return 'This request came from another site and was refused. Open the chat from its own address and try again.';
    case 'bad_credentials':
      return 'Wrong username or password.';
    case 'unauthenticated':
      return 'Your session has ended. Please log in again.';
    case 'forbidden':
      return FORBIDDEN[context];
    case 'not_found':
      return NOT_FOUND[context];
    case 'timeout':
      return 'The server took too long to answer. Try again.';
    case 'too_large':
      return 'That is too long.';
    case 'invalid':
    case 'conflict':
      return asSentence(error.message) || fallback;
  }
  if (error.status === 429) return `Too many attempts. ${later}`;
  // `unavailable`, `internal`, an unexpected answer, a code this client does not know.
  return fallback;
}

/** Sentences for `error` frames about a send (`ws::protocol::ErrorCode`). */
export function sendErrorText(code: string, message: string): string {
  switch (code) {
    case 'unavailable':
      return 'Not confirmed; it may have been delivered. Retry to find out.';
    case 'rate_limited':
      return 'You are sending too fast. Retry in a moment.';
    case 'forbidden':
      return 'You are not a member of this room any more.';
    case 'invalid':
      return asSentence(message) || 'The server refused this message.';
    default:
      return 'The server refused this message.';
  }
}
