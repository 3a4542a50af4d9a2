#!/usr/bin/env node
// The initial-JavaScript budget: the gzipped size of the scripts the built
// index.html loads before the first paint (its module script and every
// modulepreload) must stay within BUDGET_BYTES. Lazily loaded chunks (the API
// client and its schemas, the auth screens, the chat) do not count.
//
//   node scripts/bundle-budget.mjs [dist]     (npm run budget, after npm run build)
//
// Prints each file and the total; exits 1 over the budget, 2 when dist is not built.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** frontend/README.md states it: keep the two equal. */
export const BUDGET_BYTES = 80 * 1024;

const dist = resolve(process.argv[2] ?? 'dist');
let html;
try {
  html = readFileSync(join(dist, 'index.html'), 'utf8');
} catch {
  console.error(`bundle-budget: ${dist}/index.html is missing: run npm run build first`);
  process.exit(2);
}

const initial = new Set();
for (const tag of html.match(/<(script|link)\b[^>]*>/g) ?? []) {
  const module = /^<script\b/.test(tag) && /\btype="module"/.test(tag);
  const preload = /^<link\b/.test(tag) && /\brel="modulepreload"/.test(tag);
  const url = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
  if ((module || preload) && url?.startsWith('/')) initial.add(url);
}
if (initial.size === 0) {
  console.error('bundle-budget: index.html loads no module script: not a Vite build?');
  process.exit(2);
}

let total = 0;
for (const url of initial) {
  const gz = gzipSync(readFileSync(join(dist, url)), { level: 9 }).length;
  total += gz;
  console.log(`  ${url}  ${(gz / 1024).toFixed(1)} KiB gzipped`);
}
const verdict = total <= BUDGET_BYTES ? 'within' : 'OVER';
console.log(
  `bundle-budget: initial JavaScript ${(total / 1024).toFixed(1)} KiB gzipped, ${verdict} the budget of ${BUDGET_BYTES / 1024} KiB`,
);
process.exit(total <= BUDGET_BYTES ? 0 : 1);
