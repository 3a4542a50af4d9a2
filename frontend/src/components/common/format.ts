// Dates for people, in their locale.
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function shortTime(at: string | number): string {
  return time.format(new Date(at));
}

export function fullTime(at: string | number): string {
  return full.format(new Date(at));
}
