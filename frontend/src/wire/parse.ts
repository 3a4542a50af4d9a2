// Turns one WebSocket text message into a typed server frame, or nothing.
import { ServerFrame, SERVER_FRAME_TYPES } from './server';

const KNOWN = new Set<string>(SERVER_FRAME_TYPES);

/**
 * Parses a server frame. Unknown frame types (a newer server) are ignored and
 * logged with `console.debug`; a known type with a malformed body is ignored
 * and logged with `console.warn`, naming the fields at fault but never their
 * values (a body is user text).
 */
export function parseServerFrame(text: string): ServerFrame | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    console.debug('[wire] ignored a frame that is not JSON');
    return null;
  }
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !KNOWN.has(type)) {
    console.debug('[wire] ignored an unknown frame', { type: typeof type === 'string' ? type : null });
    return null;
  }
  const parsed = ServerFrame.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(frame)');
    console.warn('[wire] ignored a malformed frame', { type, fields });
    return null;
  }
  return parsed.data;
}
