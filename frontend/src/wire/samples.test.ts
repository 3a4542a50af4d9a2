// Drift check between the Rust wire types and these schemas (style habit 11).
//
// `docs/wire-samples.json` is generated from the real Rust types by
// gateway/tests/wire_samples.rs (which fails while the file is out of date);
// this test parses every sample with the schemas and asks for it back
// unchanged. The inline samples in ./samples.ts are the fallback for a tree
// without the file.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ApiErrorBody,
  ClientFrame,
  DirectRoom,
  HistoryPage,
  Member,
  OnlinePage,
  MessageVersions,
  MyRoom,
  Room,
  SERVER_FRAME_TYPES,
  ServerFrame,
  Session,
  Ticket,
  User,
} from './index';
import { inlineSamples, type WireSamples } from './samples';

// Resolved at build time; an empty object while the file does not exist.
const generated = import.meta.glob<WireSamples>('../../../docs/wire-samples.json', { eager: true, import: 'default' });
const fromRust = Object.values(generated)[0];
const samples: WireSamples = fromRust ?? inlineSamples;
const source = fromRust ? 'docs/wire-samples.json' : 'inline samples (docs/wire-samples.json does not exist yet)';

const httpSchemas: Record<keyof WireSamples['http'], z.ZodType> = {
  session: Session,
  ticket: Ticket,
  user: User,
  room: Room,
  my_room: MyRoom,
  member: Member,
  online: OnlinePage,
  direct_room: DirectRoom,
  history: HistoryPage,
  versions: MessageVersions,
  error: ApiErrorBody,
};

/**
 * Parses `value` and asks for it back unchanged: a field the schema does not
 * know is stripped by zod, so the comparison fails on it (drift in either
 * direction shows up here).
 */
function roundTrips(schema: z.ZodType, value: unknown): void {
  const parsed = schema.safeParse(value);
  expect(parsed.success ? null : parsed.error.issues).toBeNull();
  expect(parsed.data).toEqual(value);
}

describe(`wire samples from ${source}`, () => {
  it('have a sample of every server frame type', () => {
    const types = new Set(samples.server_frames.map((f) => (f as { type?: unknown }).type));
    expect(SERVER_FRAME_TYPES.filter((t) => !types.has(t))).toEqual([]);
  });

  it('have a sample of every client frame type', () => {
    const types = new Set(samples.client_frames.map((f) => (f as { type?: unknown }).type));
    const all = ClientFrame.options.map((o) => o.shape.type.value);
    expect(all.filter((t) => !types.has(t))).toEqual([]);
  });

  it('every server frame matches ServerFrame exactly', () => {
    for (const frame of samples.server_frames) roundTrips(ServerFrame, frame);
  });

  it('every client frame matches ClientFrame exactly', () => {
    for (const frame of samples.client_frames) roundTrips(ClientFrame, frame);
  });

  it.each(Object.keys(httpSchemas) as (keyof WireSamples['http'])[])('every HTTP %s body matches its schema exactly', (name) => {
    const bodies = samples.http[name];
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) roundTrips(httpSchemas[name], body);
  });
});
