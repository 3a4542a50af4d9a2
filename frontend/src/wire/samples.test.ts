// Drift check between the Rust wire types and these schemas (style habit 11).
//
// TODO(wire-samples): the Rust side is to generate `docs/wire-samples.json`
// from the real types in gateway/src/ws/protocol.rs and gateway/src/http
// (serde_json of one value of each, in the layout of `WireSamples` in
// ./samples.ts). Once that file exists this test checks it; until then it
// checks the inline samples, which were written by hand from docs/protocol.md.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  ApiErrorBody,
  ClientFrame,
  DirectRoom,
  HistoryPage,
  Member,
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
  direct_room: DirectRoom,
  history: HistoryPage,
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
