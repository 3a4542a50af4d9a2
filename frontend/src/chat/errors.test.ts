import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/http';
import { asSentence, errorText, inTime, sendErrorText } from './errors';

const api = (status: number, code: string, message = 'raw text', retryAfterSecs?: number) =>
  new ApiError(status, code, message, retryAfterSecs);

describe('errorText', () => {
  it('says when to try again after a rate limit, from Retry-After', () => {
    expect(errorText(api(429, 'rate_limited', 'too many requests', 12), 'x')).toBe('Too many attempts. Try again in 12 seconds.');
    expect(errorText(api(429, 'rate_limited', 'too many requests', 900), 'x')).toBe('Too many attempts. Try again in 15 minutes.');
    expect(errorText(api(429, 'rate_limited', 'too many requests'), 'x')).toBe('Too many attempts. Try again later.');
  });

  it('says the server is busy (503 busy), and when to try again', () => {
    expect(errorText(api(503, 'busy', 'busy', 1), 'Could not sign up.')).toBe('The server is busy right now. Try again in 1 second.');
  });

  it('explains a cross-site refusal', () => {
    expect(errorText(api(403, 'cross_site', 'cross-site request'), 'x')).toMatch(/^This request came from another site/);
  });

  it('makes a refused name’s reason a sentence (422 invalid, 409 conflict)', () => {
    expect(errorText(api(422, 'invalid', 'that name is reserved'), 'Could not create the room.')).toBe('That name is reserved.');
    expect(errorText(api(409, 'conflict', 'that username is taken'), 'Could not sign up.')).toBe('That username is taken.');
  });

  it('says why an invitation was refused (403 forbidden), and who does not exist (404)', () => {
    expect(errorText(api(403, 'forbidden', 'forbidden'), 'Could not invite.', 'invite')).toBe(
      'You cannot invite this person: only the room’s owner invites, and not someone who has blocked them.',
    );
    expect(errorText(api(404, 'not_found', 'not found'), 'Could not invite.', 'invite')).toBe('Nobody has that username.');
  });

  it('never shows the server’s raw text for codes with a meaning of their own', () => {
    for (const [status, code] of [
      [401, 'bad_credentials'],
      [401, 'unauthenticated'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [405, 'method_not_allowed'],
      [408, 'timeout'],
      [413, 'too_large'],
      [500, 'internal'],
      [503, 'unavailable'],
      [0, 'network'],
    ] as const) {
      const text = errorText(api(status, code, 'raw lower-case text'), 'Could not do it.');
      expect(text).not.toContain('raw lower-case text');
      expect(text).toMatch(/^[A-Z].*\.$/);
    }
    expect(errorText(api(401, 'bad_credentials'), 'x')).toBe('Wrong username or password.');
    expect(errorText(new Error('boom'), 'Could not do it.')).toBe('Could not do it.');
  });
});

describe('helpers', () => {
  it('word a wait', () => {
    expect(inTime(1)).toBe('in 1 second');
    expect(inTime(59)).toBe('in 59 seconds');
    expect(inTime(60)).toBe('in 1 minute');
    expect(inTime(3600)).toBe('in 1 hour');
    expect(inTime(7200)).toBe('in 2 hours');
  });

  it('make sentences', () => {
    expect(asSentence('that name is reserved')).toBe('That name is reserved.');
    expect(asSentence('Already fine.')).toBe('Already fine.');
  });

  it('word refused sends', () => {
    expect(sendErrorText('rate_limited', 'slow down')).toBe('You are sending too fast. Retry in a moment.');
    expect(sendErrorText('invalid', 'a message body is 1 to 4000 characters')).toBe('A message body is 1 to 4000 characters.');
    expect(sendErrorText('bad_frame', 'expected value at line 1')).toBe('The server refused this message.');
  });
});
