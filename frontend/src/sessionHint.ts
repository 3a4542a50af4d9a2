// Whether this browser was signed in when last seen: only chooses what shows
// while the session is restored (the splash for a returning user, the landing
// page for anyone else). Not a credential: the session itself is the
// HttpOnly refresh cookie.
const KEY = 'chat.signed-in';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function wasSignedIn(): boolean {
  return storage()?.getItem(KEY) === '1';
}

export function rememberSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) storage()?.setItem(KEY, '1');
    else storage()?.removeItem(KEY);
  } catch {
    // storage full or refused: the hint is only a nicety
  }
}
