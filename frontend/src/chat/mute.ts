// Rooms the person muted: they never notify. Kept in localStorage (a setting,
// not a credential) so it holds across reloads and tabs; React reads it with
// useMuted (useSyncExternalStore).
import { useSyncExternalStore } from 'react';

const KEY = 'chat.muted-rooms';
/** More than anyone mutes; a bound on what a tampered value can cost. */
const MAX_ROOMS = 1000;

type Listener = () => void;
const listeners = new Set<Listener>();
let cache: { raw: string | null; rooms: ReadonlySet<string> } | null = null;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function read(): ReadonlySet<string> {
  const raw = storage()?.getItem(KEY) ?? null;
  if (cache !== null && cache.raw === raw) return cache.rooms;
  let rooms: ReadonlySet<string> = new Set();
  try {
    const parsed: unknown = raw === null ? [] : JSON.parse(raw);
    if (Array.isArray(parsed)) rooms = new Set(parsed.filter((r): r is string => typeof r === 'string').slice(0, MAX_ROOMS));
  } catch {
    // not JSON: nothing muted
  }
  cache = { raw, rooms };
  return rooms;
}

export function isMuted(room: string): boolean {
  return read().has(room);
}

export function setMuted(room: string, muted: boolean): void {
  const rooms = new Set(read());
  if (muted) rooms.add(room);
  else rooms.delete(room);
  try {
    storage()?.setItem(KEY, JSON.stringify([...rooms].slice(0, MAX_ROOMS)));
  } catch {
    // storage refused: the setting lasts as long as nothing re-reads it
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  // another tab muted or unmuted a room
  const onStorage = (event: StorageEvent) => {
    if (event.key === KEY) listener();
  };
  if (typeof window !== 'undefined') window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    if (typeof window !== 'undefined') window.removeEventListener('storage', onStorage);
  };
}

/** Whether `room` is muted; renders again when that changes (here or in another tab). */
export function useMuted(room: string): boolean {
  return useSyncExternalStore(subscribe, () => isMuted(room));
}
