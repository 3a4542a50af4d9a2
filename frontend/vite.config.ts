/// <reference types="vitest/config" />
// Vite: dev server, production build (frontend/dist) and the vitest setup.
//
// In development the site is this dev server; `/api` and `/ws` go through to
// nginx on 127.0.0.1:8080 (`make up`), which balances over the two gateways.
// The gateway only upgrades WebSockets whose `Origin` is in ALLOWED_ORIGINS
// (http://127.0.0.1:8080 and http://localhost:8080 by default), so the proxy
// presents nginx's own origin instead of the dev server's.
import { defineConfig } from 'vite';
import { precompress } from './scripts/precompress.mjs';

const BACKEND = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [precompress()],
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: BACKEND, changeOrigin: true, headers: { origin: BACKEND } },
      '/ws': { target: BACKEND, ws: true, changeOrigin: true, headers: { origin: BACKEND } },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // nginx's Content-Security-Policy allows neither inline scripts nor inline styles.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    // Style sheets stay empty in tests, but for their text asked as `?raw` (src/styles/touch.test.ts).
    css: { include: [/\.css\?raw$/] },
  },
});
