// The wire contract of docs/protocol.md as zod schemas and the types they infer.
export * from './common';
export * from './server';
export * from './client';
export * from './http';
export { parseServerFrame } from './parse';
