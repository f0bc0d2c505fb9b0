import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lexConfig } from '../../electron/core/ssh/config/config-lexer.js';
import { hostApplies } from '../../electron/core/ssh/config/host-patterns.js';
import { listHostAliases, resolveHostConfig, type ResolveOptions } from '../../electron/core/ssh/config/ssh-config.js';
import { asyncOutcomeOf, bounded, expectTidyMessage, outcomeOf, runs, textFrom } from './bounds.js';

// ~/.ssh/config of any content, with Include trees of any shape (loops, deep chains, the same
// file included many times over): every alias resolves or is refused as BAD_INPUT naming a file,
// nothing hangs, and a config written with any of OpenSSH's spellings reads back as written.

let home: string;
let sshDir: string;
let options: ResolveOptions;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ssh-config-property-'));
  sshDir = path.join(home, '.ssh');
  await mkdir(path.join(sshDir, 'sub'), { recursive: true });
  options = { homeDir: home, localUser: 'alice' };
});
afterEach(async () => rm(home, { recursive: true, force: true }));

/** Writes the files (relative to ~/.ssh), removing those of the previous run. */
async function writeTree(files: Record<string, string>): Promise<void> {
  await rm(sshDir, { recursive: true, force: true });
  await mkdir(path.join(sshDir, 'sub'), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(sshDir, name), text);
}

const FILES = ['config', 'f1', 'f2', 'f3', 'sub/g1', 'sub/g2'];
const ALIASES = ['plex', 'PLEX', 'x'.repeat(300)];

const includeTarget = fc.constantFrom('f1', 'f2', 'f3', 'f*', 'sub/*', 'sub/g?', '~/.ssh/f1', 'missing', 'sub', '*', 'config', '"f1 f2"', 'f1 f2 f3');
const configLine = fc.oneof(
  includeTarget.map((t) => `Include ${t}`),
  fc.constantFrom('Host plex', 'Host nas plex', 'Host *', 'Host !plex *', 'Host p*', 'Host ?las', 'Host *a*a*a*a*a*a*a*a*b', 'Host ""',
    'Match all', 'Match exec "touch /nonexistent/x"', 'Match host plex', 'Match', '  HostName %h.example.com', '  HostName %x',
    '  HostName=plex.example.com', '  User media', '  User "two words"', '  Port 2222', '  Port 0', '  Port 99999', '  Port',
    '  IdentityFile ~/.ssh/id_%h_%r_%%', '  IdentityFile ~bob/key', '  IdentityFile none', '  IdentityFile %', '  ProxyJump bastion,nas:2222',
    '  ProxyJump none', '  ProxyCommand ssh -W %h:%p gw', '  ProxyCommand', '  User "unclosed', '# comment', '', '\uFEFFHost plex',
    `  Port 22\u001b[2J${'9'.repeat(300)}`, `  IdentityFile ~\u001b[2J${'u'.repeat(300)}/key`, `Include ~\u0007${'v'.repeat(300)}/x`),
  textFrom(['Host', 'Include', ' ', '=', '"', "'", '\\', '#', '\t', '\r', 'f1', '*', '%h', '~'], 8),
);
const configText = fc.array(configLine, { maxLength: 10 }).map((lines) => lines.join('\n'));
const tree = fc.record(Object.fromEntries(FILES.map((name) => [name, configText])) as Record<string, fc.Arbitrary<string>>);

/** A chain config → c1 → c2 → ..., each link including the next `fanOut` times: deep, and wide in total. */
const chain = fc.record({ length: fc.integer({ min: 1, max: 18 }), fanOut: fc.integer({ min: 1, max: 3 }) }).map(({ length, fanOut }) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < length; i++) files[i === 0 ? 'config' : `c${i}`] = `Include ${Array(fanOut).fill(`c${i + 1}`).join(' ')}\nHost plex\n  Port ${i + 1}\n`;
  files[`c${length}`] = 'Host plex\n  User last\n';
  return files;
});

async function expectResolvedOrRefused(aliases = ALIASES): Promise<void> {
  for (const alias of aliases) {
    const result = await asyncOutcomeOf(resolveHostConfig(alias, options));
    if (result.ok) {
      const { port, identityFiles } = result.value;
      if (port !== undefined) expect(port).toBeGreaterThanOrEqual(1);
      for (const file of identityFiles) expect(path.isAbsolute(file)).toBe(true);
    } else {
      expect(result.error.code).toBe('BAD_INPUT');
      // Every refusal points at a file the person can open, and shows what is wrong in it briefly.
      expect(result.error.message).toContain(sshDir);
      expectTidyMessage(result.error, 600);
    }
  }
  const listed = await asyncOutcomeOf(listHostAliases(options));
  if (!listed.ok) expect(listed.error.code).toBe('BAD_INPUT');
}

describe('ssh config, for any content', () => {
  it('lexes any text into lines, or refuses it as BAD_INPUT', () => {
    fc.assert(
      fc.property(fc.oneof(configText, fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        const result = outcomeOf(() => lexConfig(text, '/home/alice/.ssh/config'));
        if (!result.ok) {
          expect(result.error.code).toBe('BAD_INPUT');
          expectTidyMessage(result.error);
        }
      }),
      runs(500),
    );
  });

  it('matches Host patterns against any alias in bounded time', () => {
    const patternText = textFrom(['*', '?', '!', 'a', 'b', '.', 'é'], 24);
    fc.assert(
      fc.property(fc.array(patternText, { minLength: 1, maxLength: 3 }), fc.oneof(textFrom(['a', 'b', '.'], 200), fc.string()), (patterns, alias) => {
        bounded(() => hostApplies(alias, patterns));
      }),
      runs(300),
    );
  });

  it('resolves every alias of any Include tree, or refuses it as BAD_INPUT naming a file', async () => {
    await fc.assert(fc.asyncProperty(tree, async (files) => {
      await writeTree(files);
      await expectResolvedOrRefused();
    }), runs(40));
  });

  it('finishes deep and repeated Include chains', async () => {
    await fc.assert(fc.asyncProperty(chain, async (files) => {
      await writeTree(files);
      await expectResolvedOrRefused(['plex']);
    }), runs(15));
  });
});

// Round trip: blocks written with any of the spellings OpenSSH accepts read back as ssh would.

interface Block {
  names: string[];
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
}

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const block: fc.Arbitrary<Block> = fc.record(
  {
    names: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
    hostName: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/),
    user: fc.stringMatching(/^[a-z_][a-z0-9_ #'"\\]{0,12}$/).filter((u) => u.trim() === u),
    port: fc.integer({ min: 1, max: 65535 }),
    identityFile: fc.stringMatching(/^\/[a-z0-9 _#'"\\-]{1,16}$/).filter((f) => f.trim() === f && !f.includes('%')),
  },
  { requiredKeys: ['names'] },
);

/** A value as ssh_config allows writing it: bare when nothing needs quoting, else quoted with escapes. */
function written(value: string, quoteAnyway: boolean): string {
  return quoteAnyway || /[\s"'#\\]/.test(value) ? `"${value.replace(/["'\\]/g, '\\$&')}"` : value;
}

const spelling = fc.record({
  keywordCase: fc.constantFrom<(k: string) => string>((k) => k, (k) => k.toLowerCase(), (k) => k.toUpperCase()),
  separator: fc.constantFrom(' ', '=', ' = ', '\t', '  =\t'),
  quote: fc.boolean(),
  indent: fc.constantFrom('', '  ', '\t'),
  comment: fc.constantFrom('', '   # a comment', '\r'),
});

describe('ssh config round-trips', () => {
  it('reads back the first value of each setting for every alias, and lists the aliases in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { minLength: 1, maxLength: 4 }), fc.array(spelling, { minLength: 1, maxLength: 3 }), async (blocks, spellings) => {
        let n = 0;
        const line = (keyword: string, value: string) => {
          const s = spellings[n++ % spellings.length]!;
          return `${s.indent}${s.keywordCase(keyword)}${s.separator}${value}${s.comment}`;
        };
        const text = blocks
          .flatMap((b) => [
            line('Host', b.names.join(' ')),
            ...(b.hostName !== undefined ? [line('HostName', written(b.hostName, spellings[0]!.quote))] : []),
            ...(b.user !== undefined ? [line('User', written(b.user, spellings[0]!.quote))] : []),
            ...(b.port !== undefined ? [line('Port', written(String(b.port), spellings[0]!.quote))] : []),
            ...(b.identityFile !== undefined ? [line('IdentityFile', written(b.identityFile, spellings[0]!.quote))] : []),
          ])
          .join('\n');
        await writeTree({ config: text });
        const aliases = [...new Set(blocks.flatMap((b) => b.names))];
        expect(await listHostAliases(options)).toEqual(aliases);
        for (const alias of aliases) {
          const matching = blocks.filter((b) => b.names.includes(alias));
          const first = <K extends keyof Block>(key: K) => matching.find((b) => b[key] !== undefined)?.[key];
          const want = {
            ...(first('hostName') !== undefined ? { hostName: first('hostName') } : {}),
            ...(first('user') !== undefined ? { user: first('user') } : {}),
            ...(first('port') !== undefined ? { port: first('port') } : {}),
            identityFiles: [...new Set(matching.flatMap((b) => (b.identityFile !== undefined ? [b.identityFile] : [])))],
          };
          expect(await resolveHostConfig(alias, options)).toEqual(want);
        }
      }),
      runs(40),
    );
  });
});
