// A Vite plugin (vite.config.ts): writes NAME.gz next to every compressible
// file of the build, at gzip's highest level, so that nginx's gzip_static
// serves them (nginx/chat.conf.template, nginx/prod/chat/static.conf) instead
// of compressing on every request. Below nginx's gzip_min_length (1024 bytes)
// compression is not worth a header: no copy.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

// Not .html: the entry page is served uncompressed (nginx configs, BREACH scanners).
const COMPRESSIBLE = /\.(js|mjs|css|svg|txt|json|webmanifest)$/;
const MIN_BYTES = 1024;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export function precompress() {
  let outDir = 'dist';
  return {
    name: 'chat-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      for (const file of walk(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const data = readFileSync(file);
        if (data.length >= MIN_BYTES) writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}
