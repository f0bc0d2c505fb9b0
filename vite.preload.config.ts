import { defineConfig, type Plugin } from 'vite';

// Forge merges this into its preload build (one CommonJS file, .vite/build/preload.cjs). The
// preload runs sandboxed, where require() knows only `electron` and a few builtins, so anything
// else must be bundled in; this build fails rather than ship a preload that dies on load.

const ALLOWED_REQUIRES: ReadonlySet<string> = new Set(['electron']);

function onlyElectronRequires(): Plugin {
  return {
    name: 'reclaim:sandboxed-preload',
    generateBundle(_options, bundle) {
      for (const output of Object.values(bundle)) {
        if (output.type !== 'chunk') continue;
        const outside = [...output.imports, ...output.dynamicImports].filter((id) => !ALLOWED_REQUIRES.has(id));
        if (outside.length > 0) {
          this.error(`The sandboxed preload ${output.fileName} would require ${outside.join(', ')}; only electron is available there. Bundle it or drop it.`);
        }
      }
      const chunks = Object.values(bundle).filter((output) => output.type === 'chunk');
      if (chunks.length !== 1) this.error(`The preload must be one file, got ${chunks.map((chunk) => chunk.fileName).join(', ')}.`);
    },
  };
}

export default defineConfig({
  plugins: [onlyElectronRequires()],
});
