import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layers of the code, as VS Code's layering rule and GitHub Desktop's restricted imports keep
// theirs: the core and the CLI run in plain Node (Electron's binary is not there for them), the
// window talks to the rest only through the one contract, and the preload holds nothing but the
// bridge. A violation fails here, naming the file, the import and the rule it breaks.

const ROOT = path.resolve(import.meta.dirname, '../..');

type Layer = 'core' | 'shared' | 'cli' | 'main' | 'preload' | 'renderer';

const LAYER_DIRS: Record<Layer, string> = {
  core: 'electron/core',
  shared: 'electron/shared',
  cli: 'electron/cli',
  main: 'electron/main',
  preload: 'electron/preload',
  renderer: 'renderer',
};

/** Which layers each layer may import from (itself included), and whether `electron` is allowed. */
const ALLOWED: Record<Layer, { layers: Layer[]; electron: boolean; packages: boolean | string[] }> = {
  core: { layers: ['core', 'shared'], electron: false, packages: true },
  shared: { layers: ['shared'], electron: false, packages: false },
  cli: { layers: ['cli', 'core', 'shared'], electron: false, packages: true },
  main: { layers: ['main', 'core', 'shared'], electron: true, packages: true },
  preload: { layers: ['preload', 'shared'], electron: true, packages: false },
  renderer: { layers: ['renderer', 'shared'], electron: false, packages: ['react', 'react-dom'] },
};

interface Import {
  file: string;
  line: number;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mts|cts|js|mjs)$/.test(entry.name))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

// TypeScript's own pre-parser finds every import, re-export, `import type`, bare `import 'x'`,
// dynamic `import('x')` and `require('x')`, and ignores comments and strings that merely mention one.
function importsIn(file: string, source: string): Import[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles.map((ref) => ({ file, specifier: ref.fileName, line: source.slice(0, ref.pos).split('\n').length }));
}

function importsOf(file: string): Import[] {
  return importsIn(file, readFileSync(path.join(ROOT, file), 'utf8'));
}

function layerOfPath(relativePath: string): Layer | undefined {
  const normal = relativePath.split(path.sep).join('/');
  return (Object.keys(LAYER_DIRS) as Layer[]).find((layer) => normal === LAYER_DIRS[layer] || normal.startsWith(`${LAYER_DIRS[layer]}/`));
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** What is wrong with one import, or undefined when the layer may use it. */
function violation(layer: Layer, item: Import): string | undefined {
  const rule = ALLOWED[layer];
  const { specifier } = item;
  if (specifier.startsWith('.')) {
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(item.file), specifier));
    if (target.startsWith('..')) return `reaches outside the project (${target})`;
    // The project's own manifest, for its version; the Node side only (a page has no use for it).
    if (target === 'package.json') return layer === 'core' || layer === 'cli' || layer === 'main' ? undefined : `${layer} must not import package.json`;
    const targetLayer = layerOfPath(target);
    if (!targetLayer) return `imports ${target}, which belongs to no layer`;
    return rule.layers.includes(targetLayer) ? undefined : `${layer} must not import ${targetLayer}`;
  }
  if (specifier.startsWith('node:')) return layer === 'core' || layer === 'cli' || layer === 'main' ? undefined : `${layer} must not use Node (${specifier})`;
  const name = packageName(specifier);
  if (name === 'electron') return rule.electron ? undefined : `${layer} must not import electron`;
  if (rule.packages === true) return undefined;
  if (rule.packages === false) return `${layer} must not import packages (${name})`;
  return rule.packages.includes(name) ? undefined : `${layer} may import only ${rule.packages.join(', ')} (not ${name})`;
}

describe('the layers of the code', () => {
  const all = (Object.keys(LAYER_DIRS) as Layer[]).flatMap((layer) =>
    sourceFiles(LAYER_DIRS[layer]).flatMap((file) => importsOf(file).map((item) => ({ layer, item }))));

  it('finds the imports it checks (so an empty scan cannot pass)', () => {
    const specifiers = (layer: Layer) => all.filter((entry) => entry.layer === layer).map((entry) => entry.item.specifier);
    expect(specifiers('preload')).toContain('electron');
    expect(specifiers('renderer')).toContain('react');
    expect(specifiers('core')).toContain('ssh2');
    expect(specifiers('cli').some((s) => s.includes('/core/'))).toBe(true);
    // Every way of importing is seen, and a mention in a comment or a string is not an import.
    const sample = [
      "import a from './a.js';", "import type { B } from './b.js';", "export { c } from './c.js';",
      "import './d.css';", "const e = await import('./e.js');", "const f = require('./f.js');",
      "// import g from './not-an-import.js';", "const view = { kind: 'import' }; const h = 'x';",
    ].join('\n');
    expect(importsIn('electron/core/x.ts', sample).map((item) => item.specifier).sort())
      .toEqual(['./a.js', './b.js', './c.js', './d.css', './e.js', './f.js']);
  });

  it('keeps every layer to what it may import', () => {
    const broken = all
      .map(({ layer, item }) => ({ item, why: violation(layer, item) }))
      .filter((entry) => entry.why)
      .map(({ item, why }) => `${item.file}:${item.line} imports '${item.specifier}': ${why}`);
    expect(broken).toEqual([]);
  });

  it('names the rule a forbidden import breaks', () => {
    expect(violation('core', { file: 'electron/core/app/x.ts', line: 1, specifier: 'electron' })).toBe('core must not import electron');
    expect(violation('cli', { file: 'electron/cli/x.ts', line: 1, specifier: '../main/main.js' })).toBe('cli must not import main');
    expect(violation('shared', { file: 'electron/shared/x.ts', line: 1, specifier: '../core/common/errors.js' })).toBe('shared must not import core');
    expect(violation('renderer', { file: 'renderer/x.tsx', line: 1, specifier: '../electron/core/ssh/connect.js' })).toBe('renderer must not import core');
    expect(violation('renderer', { file: 'renderer/x.tsx', line: 1, specifier: 'node:fs' })).toBe('renderer must not use Node (node:fs)');
    expect(violation('preload', { file: 'electron/preload/x.ts', line: 1, specifier: '../core/app/app-service.js' })).toBe('preload must not import core');
    expect(violation('core', { file: 'electron/core/x.ts', line: 1, specifier: '../../renderer/App.js' })).toBe('core must not import renderer');
    expect(violation('main', { file: 'electron/main/x.ts', line: 1, specifier: '../../renderer/App.js' })).toBe('main must not import renderer');
    expect(violation('renderer', { file: 'renderer/x.tsx', line: 1, specifier: '../package.json' })).toBe('renderer must not import package.json');
    expect(violation('core', { file: 'electron/core/plex/x.ts', line: 1, specifier: '../../../package.json' })).toBeUndefined();
  });
});
