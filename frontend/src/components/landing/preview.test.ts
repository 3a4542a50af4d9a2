import { describe, expect, it, vi } from 'vitest';
import { fetchPreview, parsePreview } from './preview';

const sender = { id: '0190a1b2-0000-7000-8000-000000000001', username: 'alice' };
const body = {
  rooms: [
    {
      id: '0190a1b2-0000-7000-8000-0000000000aa',
      name: 'general',
      topic: 'Say hello',
      members: 3,
      messages: [{ sender, body: 'hi **all**', sent_at: '2026-01-01T00:00:00Z' }],
    },
    { id: '0190a1b2-0000-7000-8000-0000000000bb', name: 'quiet', topic: null, members: 1, messages: [] },
  ],
};

describe('parsePreview', () => {
  it('takes a preview body as the server sends it', () => {
    expect(parsePreview(body)).toEqual(body.rooms);
  });

  it('refuses what is not one', () => {
    expect(parsePreview(null)).toBeNull();
    expect(parsePreview({ rooms: {} })).toBeNull();
    expect(parsePreview({ rooms: [{ ...body.rooms[0], members: '3' }] })).toBeNull();
    expect(parsePreview({ rooms: [{ ...body.rooms[0], messages: [{ sender, body: 1, sent_at: '' }] }] })).toBeNull();
  });
});

// The server's own sample (gateway/tests/wire_samples.rs): parsed whole, nothing
// lost or unknown (a field added on either side fails here).
const generated = import.meta.glob<{ http: { preview?: unknown[] } }>('../../../../docs/wire-samples.json', { eager: true, import: 'default' });
const fromRust = Object.values(generated)[0]?.http.preview;

describe('parsePreview against the server’s sample', () => {
  it.runIf(fromRust !== undefined)('takes docs/wire-samples.json’s preview bodies exactly', () => {
    for (const sample of fromRust ?? []) expect(parsePreview(sample)).toEqual((sample as { rooms: unknown }).rooms);
    expect(fromRust?.length).toBeGreaterThan(0);
  });
});

describe('fetchPreview', () => {
  it('asks /api/preview without credentials and gives null on an error or a bad body', async () => {
    const ok = vi.fn(async () => new Response(JSON.stringify(body), { status: 200 }));
    expect(await fetchPreview(ok as unknown as typeof fetch)).toEqual(body.rooms);
    expect(ok).toHaveBeenCalledWith('/api/preview', expect.objectContaining({ credentials: 'omit' }));
    const down = vi.fn(async () => new Response('{}', { status: 503 }));
    expect(await fetchPreview(down as unknown as typeof fetch)).toBeNull();
    const thrown = vi.fn(async () => {
      throw new TypeError('network');
    });
    expect(await fetchPreview(thrown as unknown as typeof fetch)).toBeNull();
  });
});
