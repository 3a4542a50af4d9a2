// What an avatar shows, derived from the user alone: a hue from a hash of the
// id (stable across names and devices) and the username's first letter.

/** FNV-1a over the id's UTF-16 units: small, fast, and spreads similar ids apart. */
export function hashId(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** 0 to 359. */
export function avatarHue(id: string): number {
  return hashId(id) % 360;
}

/** The first letter (a whole code point, upper case), or "?" for an empty name. */
export function avatarInitial(username: string): string {
  const first = [...username.trim()][0];
  return first === undefined ? '?' : first.toLocaleUpperCase();
}

/**
 * The fill: dark enough for white text at every hue (contrast ≥ 4.5:1), in
 * both colour schemes.
 */
export function avatarFill(id: string): string {
  return `hsl(${avatarHue(id)} 60% 34%)`;
}
