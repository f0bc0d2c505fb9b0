import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, runCli } from '../support/cli.js';
import type { KeyPair } from '../support/keys.js';
import { httpGet, portIsFree } from '../support/net.js';
import type { Sshd } from '../support/sshd.js';
import { startTunnelScene, type TunnelScene } from '../support/tunnel-scene.js';

// `reclaim` as people get it: `npm pack` makes the package, `npm install -g` puts it on PATH, and
// the command that lands there runs a real tunnel through a real sshd. The install is offline,
// from npm's cache (filled by `npm ci`): tests reach no registry. It runs no install scripts:
// those only try to build ssh2's optional native speed-ups (node-gyp would fetch Node's headers),
// and reclaim must work without them, as it does wherever they fail to build.

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const NPM_BOUND = { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 };

let work: string;
let tarball: string;
let prefix: string;
let reclaim: string;

/** npm itself, the one running `npm test` when there is one. */
function npm(args: string[], cwd: string) {
  const npmCli = process.env.npm_execpath;
  return npmCli && npmCli.endsWith('.js') ? run(process.execPath, [npmCli, ...args], { cwd, ...NPM_BOUND }) : run('npm', args, { cwd, ...NPM_BOUND });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'reclaim-installed-'));
  // --ignore-scripts: `prepare` would rebuild dist/ while other test files run it; pretest built it.
  const packed = JSON.parse((await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)).stdout) as Array<{ filename: string }>;
  tarball = path.join(work, packed[0]!.filename);
  prefix = path.join(work, 'prefix');
  try {
    await npm(['install', '--global', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', tarball], work);
  } catch (error) {
    throw new Error(`npm could not install ${tarball} from its cache (run npm ci first, which fills the cache): ${(error as { stderr?: string }).stderr ?? error}`);
  }
  reclaim = path.join(prefix, 'bin', 'reclaim');
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed reclaim package', () => {
  it('holds the compiled command line and nothing of the desktop app, the tests or the sources', async () => {
    const listed = (await run('tar', ['-tzf', tarball], NPM_BOUND)).stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, ''));
    expect(listed).toContain('dist/electron/cli/main.js');
    expect(listed).toContain('package.json');
    expect(listed.filter((entry) => !/^dist\/electron\/(cli|core|shared)\/.+\.js$/.test(entry) && !['package.json', 'README.md'].includes(entry))).toEqual([]);
  });

  it('installs reclaim on PATH as the compiled CLI, with its shebang, needing no dev dependency', async () => {
    expect((await lstat(reclaim)).isSymbolicLink()).toBe(true);
    const target = await realpath(reclaim);
    expect(target).toBe(await realpath(path.join(prefix, 'lib', 'node_modules', 'reclaim', 'dist', 'electron', 'cli', 'main.js')));
    expect((await readFile(target, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = await readdir(path.join(prefix, 'lib', 'node_modules', 'reclaim', 'node_modules'));
    for (const name of Object.keys(manifest.dependencies)) expect(installed).toContain(name);
    for (const devOnly of ['react', 'react-dom', 'vitest', 'electron', 'typescript']) expect(installed).not.toContain(devOnly);
  });

  it('answers --help as `reclaim`, found on PATH', async () => {
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}` };
    const { stdout } = await run('reclaim', ['--help'], { env, cwd: work, ...NPM_BOUND });
    expect(stdout).toMatch(/^Usage: reclaim <command> \[options\]/);
    expect(stdout).toContain('tunnel <server>');
  });
});

describe('reclaim tunnel, installed', () => {
  let key: KeyPair;
  let sshd: Sshd;
  let knownHosts: string;
  let scene: TunnelScene | undefined;

  beforeAll(async () => {
    scene = await startTunnelScene(work);
    ({ key, sshd, knownHosts } = scene);
  });

  afterAll(async () => {
    await scene?.stop();
  });

  it('forwards to the server through a real sshd, and stops cleanly', async () => {
    const tunnel = runCli(
      ['tunnel', `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', knownHosts, '-L', '0', '--json'],
      { home: work, command: reclaim },
    );
    const ready = await tunnel.events.waitFor((event) => event.event === 'ready', 'the ready line');
    const port = ready.localPort as number;
    expect(ready).toMatchObject({ event: 'ready', webUrl: `http://127.0.0.1:${port}/web`, hostKey: { fingerprint: sshd.hostKeys[0]!.fingerprint } });
    expect(JSON.parse((await httpGet(port, '/peer')).body)).toEqual({ remoteAddress: '127.0.0.1' });
    tunnel.child.kill('SIGTERM');
    expect(await exitOf(tunnel)).toEqual({ code: 0, signal: null });
    expect(await portIsFree(port)).toBe(true);
  });
});
