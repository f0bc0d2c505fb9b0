import { defineConfig, type Plugin } from 'vite';

// Forge merges this into its main-process build (CommonJS, .vite/build/main.cjs), which leaves
// only `electron` and Node's builtins outside the bundle. The Vite plugin packages nothing but
// .vite/, so every dependency (ssh2, undici) must be inside main.cjs.

/**
 * ssh2's native parts are optional and loaded inside try/catch: `cpu-features` (cipher order)
 * and its sshcrypto.node addon. Left external, their require() fails at run time and ssh2 falls
 * back to pure JS, so the app ships no .node files (which would need Electron's headers to
 * build). They stay external exactly as written: the `external` option alone rewrites
 * `./crypto/build/Release/sshcrypto.node` into a relative path back into this checkout's
 * node_modules, which means nothing in the package and, under `npm start`, points at an addon
 * built for Node's ABI rather than Electron's.
 */
function nativeAddonsStayOut(): Plugin {
  return {
    name: 'reclaim:native-addons-stay-out',
    enforce: 'pre',
    resolveId(source) {
      if (source === 'cpu-features' || source.endsWith('.node')) return { id: source, external: true };
      return null;
    },
  };
}

export default defineConfig({
  plugins: [nativeAddonsStayOut()],
});
