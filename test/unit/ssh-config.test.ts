import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReclaimError } from '../../electron/core/common/errors.js';
import { hostApplies } from '../../electron/core/ssh/config/host-patterns.js';
import { listHostAliases, resolveHostConfig, type ResolveOptions } from '../../electron/core/ssh/config/ssh-config.js';
import { bounded } from '../property/bounds.js';

let home: string;
let options: ResolveOptions;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ssh-config-'));
  await mkdir(path.join(home, '.ssh'));
  options = { homeDir: home, localUser: 'alice' };
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Writes a file under ~/.ssh (creating directories) and returns its path. */
async function write(relative: string, text: string): Promise<string> {
  const file = path.join(home, '.ssh', relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

const config = (text: string): Promise<string> => write('config', text);

async function badInputOf(promise: Promise<unknown>): Promise<{ message: string; fix: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isReclaimError(error)).toBe(true);
  if (!isReclaimError(error)) throw new Error('expected a ReclaimError');
  expect(error.code).toBe('BAD_INPUT');
  return error;
}

describe('resolveHostConfig', () => {
  it('reads HostName, User, Port and IdentityFile for an alias', async () => {
    await config(`
# my servers
Host plex
    HostName 203.0.113.7
    User media
    Port 2222
    IdentityFile ~/.ssh/plex_ed25519
`);
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: '203.0.113.7',
      user: 'media',
      port: 2222,
      identityFiles: [path.join(home, '.ssh', 'plex_ed25519')],
    });
  });

  it('returns an empty result when nothing matches', async () => {
    await config('Host other\n  HostName other.example.com\n');
    expect(await resolveHostConfig('plex', options)).toStrictEqual({ identityFiles: [] });
  });

  it('treats a missing config file as no config', async () => {
    expect(await resolveHostConfig('plex', options)).toStrictEqual({ identityFiles: [] });
    expect(await resolveHostConfig('plex', { ...options, configFile: path.join(home, 'nope', 'config') })).toStrictEqual({
      identityFiles: [],
    });
    expect(await listHostAliases(options)).toEqual([]);
  });

  it('uses the first value obtained, across Host * and a specific block', async () => {
    await config(`
User toplevel-wins-over-everything
Host *
    Port 2200
    HostName %h.fallback.example.com
Host plex
    Port 22
    HostName plex.example.com
    User ignored
`);
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.fallback.example.com',
      user: 'toplevel-wins-over-everything',
      port: 2200,
      identityFiles: [],
    });
  });

  it('lets a specific block before Host * win', async () => {
    await config(`
Host plex
    HostName plex.example.com
Host *
    HostName %h.fallback.example.com
    User everyone
`);
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.example.com',
      user: 'everyone',
      identityFiles: [],
    });
    expect((await resolveHostConfig('nas', options)).hostName).toBe('nas.fallback.example.com');
  });

  it('matches * and ? wildcards and honours ! negation', async () => {
    await config(`
Host web?.example.com !web9.example.com
    User web
Host *.example.com !db*
    Port 2022
Host *
    User other
`);
    expect(await resolveHostConfig('web1.example.com', options)).toEqual({ user: 'web', port: 2022, identityFiles: [] });
    expect(await resolveHostConfig('web9.example.com', options)).toEqual({ user: 'other', port: 2022, identityFiles: [] });
    expect(await resolveHostConfig('web10.example.com', options)).toEqual({ user: 'other', port: 2022, identityFiles: [] });
    expect(await resolveHostConfig('db1.example.com', options)).toEqual({ user: 'other', identityFiles: [] });
  });

  it('never applies a Host line that has only negated patterns', async () => {
    await config('Host !plex\n  User nobody\n');
    expect(await resolveHostConfig('nas', options)).toStrictEqual({ identityFiles: [] });
  });

  it('matches the alias case-sensitively as ssh 9 does, and lowercases HostName like ssh', async () => {
    await config('Host Plex\n  HostName Media.%h.Example.COM\n');
    expect((await resolveHostConfig('Plex', options)).hostName).toBe('media.plex.example.com');
    expect((await resolveHostConfig('plex', options)).hostName).toBeUndefined();
  });

  it('accepts Keyword=value, Keyword = value, quoted values, comments and any keyword case', async () => {
    await config(
      [
        'host="plex"',
        '  HOSTNAME=plex.example.com',
        '  user = "media user"   # trailing comment',
        '\tPort\t=\t"2222"',
        '  IdentityFile "~/.ssh/my key"',
        '  IdentityFile=~/.ssh/second\\ key',
        '  SomeFutureOption yes',
        '',
        '# Host plex',
        '#   User commented-out',
      ].join('\r\n'),
    );
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.example.com',
      user: 'media user',
      port: 2222,
      identityFiles: [path.join(home, '.ssh', 'my key'), path.join(home, '.ssh', 'second key')],
    });
  });

  it('keeps every IdentityFile in order, expanding ~, %d, %u, %h, %r and %%', async () => {
    await config(`
Host plex
    HostName plex.example.com
    User media
    IdentityFile ~/.ssh/id_%h
    IdentityFile %d/keys/%u-to-%r
    IdentityFile /etc/keys/100%%_%r
    IdentityFile relative/key
    IdentityFile ~/.ssh/id_%h
Host *
    IdentityFile ~/.ssh/id_ed25519
    IdentityFile none
`);
    expect((await resolveHostConfig('plex', options)).identityFiles).toEqual([
      path.join(home, '.ssh', 'id_plex.example.com'),
      path.join(home, 'keys', 'alice-to-media'),
      '/etc/keys/100%_media',
      path.join(home, 'relative', 'key'),
      path.join(home, '.ssh', 'id_ed25519'),
    ]);
  });

  it('expands %h to the alias and %r to the local user when HostName and User are unset', async () => {
    await config('Host *\n  IdentityFile ~/k/%h-%r\n');
    expect((await resolveHostConfig('Nas', options)).identityFiles).toEqual([path.join(home, 'k', 'nas-alice')]);
  });

  it('rejects an unknown %-token, naming the token and the line', async () => {
    const file = await config('Host plex\n  IdentityFile ~/.ssh/%C\n');
    const error = await badInputOf(resolveHostConfig('plex', options));
    expect(error.message).toContain(`${file}:2`);
    expect(error.message).toContain('%C');
    await config('Host plex\n  HostName %u.example.com\n');
    expect((await badInputOf(resolveHostConfig('plex', options))).message).toContain('%u');
  });

  it('returns the ProxyJump value, and nothing for ProxyJump none', async () => {
    await config(`
Host internal
    ProxyJump none
Host *.lan
    ProxyJump bastion@jump.example.com:2222,second
`);
    expect((await resolveHostConfig('plex.lan', options)).proxyJump).toBe('bastion@jump.example.com:2222,second');
    // The first value wins even when it is none.
    await config(`
Host plex.lan
    ProxyJump none
Host *.lan
    ProxyJump jump.example.com
`);
    const result = await resolveHostConfig('plex.lan', options);
    expect(result.proxyJump).toBeUndefined();
    expect(result).toStrictEqual({ identityFiles: [] });
  });

  it('reports ProxyCommand without running it, first of ProxyJump/ProxyCommand winning', async () => {
    await config(`
Host a
    ProxyCommand ssh -W %h:%p gateway
Host *
    ProxyJump jump
`);
    expect(await resolveHostConfig('a', options)).toEqual({ proxyCommand: 'ssh -W %h:%p gateway', identityFiles: [] });
    expect(await resolveHostConfig('b', options)).toEqual({ proxyJump: 'jump', identityFiles: [] });
  });

  it('rejects an invalid Port, naming the file and line', async () => {
    for (const bad of ['0', '65536', 'ssh', '22x', '-1']) {
      const file = await config(`Host plex\n  HostName plex.example.com\n  Port ${bad}\n`);
      const error = await badInputOf(resolveHostConfig('plex', options));
      expect(error.message).toContain(`${file}:3`);
      expect(error.message).toContain('Port');
    }
  });

  it('rejects an unclosed quote and a missing value', async () => {
    await config('Host plex\n  User "media\n');
    expect((await badInputOf(resolveHostConfig('plex', options))).message).toContain(':2');
    await config('Host plex\n  HostName\n');
    expect((await badInputOf(resolveHostConfig('plex', options))).message).toContain(':2');
  });

  it('applies Match all and treats every other Match as not applying', async () => {
    await config(`
Host plex
    HostName plex.example.com
Match host plex
    User from-match-host
Match all
    Port 2022
Match originalhost plex user alice
    IdentityFile ~/.ssh/from-match
`);
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.example.com',
      port: 2022,
      identityFiles: [],
    });
  });

  it('never runs Match exec', async () => {
    const marker = path.join(home, 'match-exec-ran');
    await config(`
Match exec "touch ${marker}"
    User from-exec
Match exec "touch ${marker}" host plex
    HostName from-exec.example.com
Host plex
    HostName plex.example.com
    User media
`);
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.example.com',
      user: 'media',
      identityFiles: [],
    });
    expect(await listHostAliases(options)).toEqual(['plex']);
    // Give a stray child process time to show itself before checking.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(marker)).toBe(false);
  });

  it('follows Include with a glob relative to ~/.ssh, in lexical order, skipping dot files', async () => {
    await config(`
Include config.d/*
Host *
    User fallback
`);
    await write('config.d/20-plex', 'Host plex\n  HostName second.example.com\n  IdentityFile ~/.ssh/second\n');
    await write('config.d/10-plex', 'Host plex\n  HostName first.example.com\n  IdentityFile ~/.ssh/first\n');
    await write('config.d/.hidden', 'Host plex\n  User hidden\n');
    await mkdir(path.join(home, '.ssh', 'config.d', '30-a-directory'));
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'first.example.com',
      user: 'fallback',
      identityFiles: [path.join(home, '.ssh', 'first'), path.join(home, '.ssh', 'second')],
    });
  });

  it('accepts several Include paths, ~, absolute paths, and silently ignores ones that do not exist', async () => {
    const absolute = path.join(home, 'elsewhere', 'hosts.conf');
    await mkdir(path.dirname(absolute));
    await writeFile(absolute, 'Host abs\n  Port 2001\n');
    await write('tilde.conf', 'Host tilde\n  Port 2002\n');
    await config(`Include missing.conf nothing-here/* ${absolute} ~/.ssh/tilde.conf\n`);
    expect((await resolveHostConfig('abs', options)).port).toBe(2001);
    expect((await resolveHostConfig('tilde', options)).port).toBe(2002);
  });

  it('lets lines at the top of an included file apply within the including block, then restores it', async () => {
    await write('plex.conf', 'User from-include\nHost other\n  Port 1111\n');
    await config(`
Host plex
    Include plex.conf
    HostName plex.example.com
`);
    // After the Include the including block (Host plex) is active again.
    expect(await resolveHostConfig('plex', options)).toEqual({
      hostName: 'plex.example.com',
      user: 'from-include',
      identityFiles: [],
    });
  });

  it('ignores an Include inside a Host block that does not apply', async () => {
    await write('cycle-or-not.conf', 'Include cycle-or-not.conf\nUser included\n');
    await config(`
Host nas
    Include cycle-or-not.conf
Host *
    User default
`);
    expect(await resolveHostConfig('plex', options)).toEqual({ user: 'default', identityFiles: [] });
  });

  it('rejects an Include cycle, naming the file', async () => {
    await config('Include a.conf\n');
    const a = await write('a.conf', 'Include b.conf\n');
    await write('b.conf', 'Host *\n  Include a.conf\n');
    const error = await badInputOf(resolveHostConfig('plex', options));
    expect(error.message).toContain(a);
    expect(error.message).toMatch(/loop/);
    await badInputOf(listHostAliases(options));
  });

  it('allows 16 levels of Include and rejects a 17th', async () => {
    await config('Include level1.conf\n');
    for (let level = 1; level <= 16; level++) {
      await write(`level${level}.conf`, `Include level${level + 1}.conf\n`);
    }
    expect(await resolveHostConfig('plex', options)).toStrictEqual({ identityFiles: [] });
    await write('level17.conf', 'User too-deep\n');
    const error = await badInputOf(resolveHostConfig('plex', options));
    expect(error.message).toContain('level17.conf');
  });

  it('rejects a config path that is not a regular file', async () => {
    await badInputOf(resolveHostConfig('plex', { ...options, configFile: home }));
  });

  it('rejects a config file the person named (ssh -F) that does not exist, naming it', async () => {
    const named = path.join(home, 'nope', 'config');
    const error = await badInputOf(resolveHostConfig('plex', { ...options, configFile: named, configFileMustExist: true }));
    expect(error.message).toBe(`The SSH config file ${named} does not exist.`);
    await badInputOf(listHostAliases({ ...options, configFile: named, configFileMustExist: true }));
  });

  // Found by test/property/ssh-config.test.ts.
  it('shows a bad value from the config briefly and with control characters written out', async () => {
    const file = await config(`Host plex\n  Port 22\u001b[2J${'9'.repeat(300)}\n`);
    const error = await badInputOf(resolveHostConfig('plex', options));
    expect(error.message).toBe(`${file}:2: Port "22\\u001b[2J${'9'.repeat(54)}…" is not a port number from 1 to 65535.`);
  });

  it('matches a Host pattern full of * against a long alias without stalling', async () => {
    // The regular expression this used to build backtracked for hours on this pair.
    expect(bounded(() => hostApplies('a'.repeat(80), ['*a*a*a*a*a*a*a*a*b']))).toBe(false);
    expect(bounded(() => hostApplies(`${'a'.repeat(80)}b`, ['*a*a*a*a*a*a*a*a*b']))).toBe(true);
  });

  it('refuses an Include chain that fans out, instead of reading the same files millions of times', async () => {
    // Three Includes of the next file, sixteen deep: 43 million files to enter.
    for (let level = 0; level < 16; level++) {
      const next = `fan${level + 1}.conf`;
      await write(level === 0 ? 'config' : `fan${level}.conf`, `Include ${next} ${next} ${next}\n`);
    }
    await write('fan16.conf', 'User deep\n');
    const error = await badInputOf(resolveHostConfig('plex', options));
    expect(error.message).toMatch(/read more than \d+ files/);
    expect(error.message).toContain(path.join(home, '.ssh'));
  });
});

describe('listHostAliases', () => {
  it('lists literal Host names in file order, skipping wildcards and negations, following Include', async () => {
    await config(`
Include hosts.d/*
Host plex nas *.lan !bad
    User media
    Include hosts.d/*
Host web? db
Host nas
Match all
    Include all.conf
Match exec "false"
    Include never.conf
Host *
    Include star.conf
Host special
    Include special.conf
`);
    await write('hosts.d/b', 'Host from-b\n');
    await write('hosts.d/a', 'Host from-a Another\n');
    await write('all.conf', 'Host from-match-all\n');
    await write('never.conf', 'Host from-never\n');
    await write('star.conf', 'Host from-star\n');
    // Only names the enclosing "Host special" block also matches are reachable through it.
    await write('special.conf', 'Host special-child special\n');
    expect(await listHostAliases(options)).toEqual([
      'from-a',
      'Another',
      'from-b',
      'plex',
      'nas',
      'db',
      'from-match-all',
      'from-star',
      'special',
    ]);
  });
});

// Cross-check against OpenSSH itself: `ssh -G` only prints the resolved configuration.
const SSH = '/usr/bin/ssh';

function sshG(file: string, alias: string): Promise<Map<string, string[]>> {
  return new Promise((resolve, reject) => {
    const child = execFile(SSH, ['-G', '-F', file, alias], { timeout: 10_000 }, (error, stdout) => {
      if (error) return reject(error);
      const values = new Map<string, string[]>();
      for (const line of stdout.split('\n')) {
        const space = line.indexOf(' ');
        if (space < 0) continue;
        const key = line.slice(0, space).toLowerCase();
        values.set(key, [...(values.get(key) ?? []), line.slice(space + 1)]);
      }
      resolve(values);
    });
    child.stdin?.end();
  });
}

// OpenSSH's client is a required test tool (.ci/run installs it): a missing ssh fails here.
describe('agreement with ssh -G', () => {
  const cases: Array<{ name: string; text: string; aliases: string[] }> = [
    {
      name: 'first value wins across blocks',
      text: `
Host *
    Port 2200
Host plex
    HostName Plex.Example.com
    User media
    Port 22
    IdentityFile /keys/one
Host p*
    IdentityFile /keys/two
    User ignored
`,
      aliases: ['plex', 'pony', 'other'],
    },
    {
      name: 'wildcards and negation',
      text: `
Host web?.example.com !web9.example.com
    User web
    IdentityFile /keys/web
Host *.example.com !db*
    Port 2022
    HostName %h.internal
Host *
    User other
`,
      aliases: ['web1.example.com', 'web9.example.com', 'db1.example.com', 'x.example.com'],
    },
    {
      name: 'equals signs and quotes',
      text: 'Host="plex"\n  HOSTNAME=plex.example.com\n  user = "media"  # comment\n  Port\t=\t"2222"\n  IdentityFile "/keys/my key"\n',
      aliases: ['plex'],
    },
  ];

  for (const { name, text, aliases } of cases) {
    it(name, async () => {
      const file = await config(text);
      for (const alias of aliases) {
        const ours = await resolveHostConfig(alias, options);
        const theirs = await sshG(file, alias);
        expect(theirs.get('hostname')).toEqual([ours.hostName ?? alias]);
        if (ours.user !== undefined) expect(theirs.get('user')).toEqual([ours.user]);
        if (ours.port !== undefined) expect(theirs.get('port')).toEqual([String(ours.port)]);
        if (ours.identityFiles.length > 0) expect(theirs.get('identityfile')).toEqual(ours.identityFiles);
      }
    });
  }
});
