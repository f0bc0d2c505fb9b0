import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

// Reclaim's own UI (renderer/). Forge's Vite plugin uses this for `npm start` and packaging; the
// UI tests build it the same way (`npm run build:renderer`) into the folder the app loads.

/** Strict in the built app (security checklist item 7); the dev server needs inline styles and its socket. */
function contentSecurityPolicy(): Plugin {
  const strict = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";
  const dev = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws://localhost:*; base-uri 'none'; form-action 'none'; object-src 'none'";
  return {
    name: 'reclaim:csp',
    transformIndexHtml(_html, context) {
      return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: context.server ? dev : strict }, injectTo: 'head-prepend' }];
    },
  };
}

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'renderer'),
  base: './',
  plugins: [contentSecurityPolicy()],
  build: {
    outDir: path.resolve(import.meta.dirname, '.vite/renderer/main_window'),
    emptyOutDir: true,
  },
});
