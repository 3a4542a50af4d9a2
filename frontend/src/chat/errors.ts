// Messages for people from failed calls.
import { ApiError } from '../api/http';

export function errorText(error: unknown, fallback: string): string {
  if (error instanceof ApiError) {
    if (error.code === 'network') return 'Could not reach the server. Check your connection.';
    if (error.status === 429) {
      return error.retryAfterSecs !== undefined
        ? `Too many attempts. Try again in ${error.retryAfterSecs} s.`
        : 'Too many attempts. Try again later.';
    }
    if (error.status >= 500 || error.code === 'bad_response') return fallback;
    return error.message;
  }
  return fallback;
}
