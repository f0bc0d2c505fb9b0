import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimServer } from '../../electron/core/plex/claim.js';
import { isReclaimError } from '../../electron/core/common/errors.js';
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { PlexTvClient } from '../../electron/core/plex/plex-tv.js';
import { PmsClient } from '../../electron/core/plex/pms.js';
import { Tunnel } from '../../electron/core/tunnel/tunnel.js';
import { cliLogFile, exitOf, runCli, type CliRun } from '../support/cli.js';
import type { KeyPair } from '../support/keys.js';
import type { NetHost } from '../support/netns.js';
import type { Sshd } from '../support/sshd.js';
import type { PlexTv } from '../stand-ins/plex-tv.js';
import type { Pms, PmsOptions } from '../stand-ins/pms.js';
import { startPlexServerScene, type PlexServerScene } from '../support/plex-server.js';

// Claiming a server that is reachable only through the tunnel: the Plex Media Server stand-in
// listens on the server namespace's own 127.0.0.1:32400 and redeems claim tokens against the
// plex.tv stand-in, which the test reaches at the root side of the server's link.

let scene: PlexServerScene;
let home: string;
let key: KeyPair;
let server: NetHost;
let sshd: Sshd;
let plexTv: PlexTv;
let knownHosts: string;
let alice: { token: string };
beforeAll(async () => {
  scene = await startPlexServerScene('claim');
  ({ home, key, server, sshd, plexTv, knownHosts } = scene);
  alice = plexTv.addUser({ username: 'alice', email: 'alice@example.com' });
});

afterEach(async () => scene.reset());
afterAll(async () => scene?.close());

async function freshPms(options: Partial<PmsOptions> = {}): Promise<Pms> {
  return scene.freshPms({ friendlyName: 'Attic NAS', ...options });
}

function reclaim(command: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): CliRun {
  return runCli([command, `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', knownHosts, '--json', ...extra], {
    home,
    env: { RECLAIM_PLEX_TV_URL: plexTv.url, ...env },
  });
}

async function claimToken(): Promise<string> {
  const reply = await fetch(`${plexTv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': alice.token, 'X-Plex-Client-Identifier': 'test' } });
  return ((await reply.json()) as { token: string }).token;
}

/** Plays the person who approves the sign-in in the browser. */
async function approveSignIn(run: CliRun): Promise<void> {
  const signin = await run.events.waitFor((e) => e.event === 'signin', 'the sign-in URL');
  const url = new URL(String(signin.url));
  expect(url.origin).toBe('https://app.plex.tv');
  const code = new URLSearchParams(url.hash.replace(/^#\??/, '')).get('code')!;
  expect(new URLSearchParams(url.hash.replace(/^#\??/, '')).get('context[device][product]')).toBe('Reclaim');
  plexTv.approvePin(code, 'alice');
}

const lastEvent = (run: CliRun) => run.events.events.at(-1)!;

/** The words `sh` makes of a command line, as a pasted command is read. */
async function shellWords(line: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`]);
  return stdout.split('\0').slice(0, -1);
}

describe('reclaim status', () => {
  it('reports an unclaimed server, read tokenless through the tunnel', async () => {
    const pmsNow = await freshPms();
    const run = reclaim('status');
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toMatchObject({
      event: 'status', claimed: false, machineIdentifier: pmsNow.machineIdentifier, version: expect.any(String),
      friendlyName: 'Attic NAS', signInState: 'none',
    });
  });

  it('reports a claimed server', async () => {
    await freshPms({ claimedBy: { username: 'bob', token: 'bob-token-not-used-here' } });
    const run = reclaim('status');
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ event: 'status', claimed: true });
  });

  it('names a reply it cannot read instead of guessing the claimed state', async () => {
    for (const malformed of ['identity-garbage', 'identity-missing-claimed'] as const) {
      await freshPms({ malformed });
      const run = reclaim('status');
      expect((await exitOf(run)).code).toBe(1);
      expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'PMS_BAD_REPLY' });
    }
  });

  it('without --json, ends with the claim command to paste: the options given, quoted, and it runs as printed', async () => {
    const pmsNow = await freshPms();
    // A key path a shell would split or choke on unquoted.
    const oddKey = path.join(home, 'my keys', "it's here", 'id');
    await mkdir(path.dirname(oddKey), { recursive: true });
    await copyFile(key.privatePath, oddKey);
    await chmod(oddKey, 0o600);
    const target = `${sshd.user.name}@${sshd.host}`;
    const run = runCli(['status', target, '-p', '22', '-i', oddKey, '--known-hosts', knownHosts], { home, env: { RECLAIM_PLEX_TV_URL: plexTv.url } });
    expect((await exitOf(run)).code).toBe(0);
    const suggested = /Claim it with:\n {2}(.+)\n$/.exec(run.stdout())?.[1];
    expect(suggested, run.stdout()).toBeDefined();
    expect(await shellWords(suggested!)).toEqual(['reclaim', 'claim', target, '-p', '22', '-i', oddKey, '--known-hosts', knownHosts]);
    // Pasted where `reclaim` is installed (npm install -g puts it on PATH), it claims the server.
    const bin = path.join(home, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'reclaim'), `#!/bin/sh\nexec '${process.execPath}' '${path.resolve('dist/electron/cli/main.js')}' "$@"\n`, { mode: 0o755 });
    const pasted = spawn('sh', ['-c', `${suggested} --token - --json`], {
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, RECLAIM_HOME: path.join(home, 'reclaim-data'), RECLAIM_PLEX_TV_URL: plexTv.url },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    pasted.stdin!.end(`${await claimToken()}\n`);
    let out = '';
    pasted.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await new Promise((resolve) => pasted.once('close', resolve))).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ event: 'claimed' });
    expect((await pmsNow.state()).owner).toBe('alice');
  });

  it('run through npm (npm run reclaim --), names the next command that way', async () => {
    await freshPms();
    const run = runCli(['status', `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', knownHosts], {
      home, env: { RECLAIM_PLEX_TV_URL: plexTv.url, npm_lifecycle_event: 'reclaim' },
    });
    expect((await exitOf(run)).code).toBe(0);
    expect(run.stdout()).toContain(`Claim it with:\n  npm run reclaim -- claim ${sshd.user.name}@${sshd.host} -i ${key.privatePath} --known-hosts ${knownHosts}\n`);
  });

  it('says when Plex is still starting up', async () => {
    await freshPms({ startingUpRequests: 1000 });
    const run = reclaim('status');
    expect((await exitOf(run)).code).toBe(1);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'PMS_STARTING' });
  });
});

describe('reclaim claim, one click (sign in with Plex)', () => {
  it('signs in, claims from the server\'s own 127.0.0.1, verifies, and never prints a token', async () => {
    const pmsNow = await freshPms();
    const run = reclaim('claim');
    await approveSignIn(run);
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toEqual({ event: 'claimed', machineIdentifier: pmsNow.machineIdentifier, username: 'alice' });
    const state = await pmsNow.state();
    expect(state).toMatchObject({ claimed: true, owner: 'alice' });
    expect(state.claimRequests.map((r) => r.from)).toEqual(['127.0.0.1']);
    const exchange = plexTv.requests.filter((r) => r.path.startsWith('/api/claim/exchange'));
    expect(exchange.at(-1)).toMatchObject({ from: server.address, headers: { 'x-plex-client-identifier': pmsNow.machineIdentifier } });
    const steps = run.events.events.filter((e) => e.event === 'step').map((e) => e.step);
    expect(steps).toEqual(['checking', 'fetching-claim-token', 'claiming', 'verifying']);
    const secrets = plexTv.requests.flatMap((r) => [r.headers['x-plex-token'], /token=([^&]+)/.exec(r.path)?.[1]]).filter((t): t is string => typeof t === 'string');
    expect(secrets.length).toBeGreaterThan(0);
    const logged = await readFile(cliLogFile(home), 'utf8');
    expect(logged).toContain(`cli[${run.child.pid}] info: reclaim claim: done (exit status 0)`);
    for (const secret of secrets) expect(run.stdout() + run.stderr() + logged).not.toContain(secret);
  });

  it('stops waiting for the sign-in on Ctrl+C: CANCELLED, exit status 130, nothing claimed', async () => {
    const pmsNow = await freshPms();
    const run = reclaim('claim');
    await run.events.waitFor((e) => e.event === 'signin', 'the sign-in URL');
    run.child.kill('SIGINT');
    expect((await exitOf(run)).code).toBe(130);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'CANCELLED', message: 'The Plex sign-in was cancelled.' });
    expect((await pmsNow.state()).claimed).toBe(false);
  });

  it('changes nothing on a server that is already claimed, and asks nobody to sign in', async () => {
    const pmsNow = await freshPms({ claimedBy: { username: 'bob', token: 'bob-token' } });
    const run = reclaim('claim');
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toEqual({ event: 'already-claimed', machineIdentifier: pmsNow.machineIdentifier });
    expect(run.events.events.some((e) => e.event === 'signin')).toBe(false);
    expect((await pmsNow.state()).claimRequests).toEqual([]);
  });

  it('reports plex.tv being unreachable from this computer', async () => {
    await freshPms();
    const run = reclaim('claim', [], { RECLAIM_PLEX_TV_URL: 'http://127.0.0.1:9' });
    expect((await exitOf(run)).code).toBe(1);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'PLEX_TV_UNREACHABLE' });
  });
});

describe('reclaim claim --token (pasted from plex.tv/claim)', () => {
  it('claims with a valid token', async () => {
    const pmsNow = await freshPms();
    const run = reclaim('claim', ['--token', await claimToken()]);
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ event: 'claimed', machineIdentifier: pmsNow.machineIdentifier });
    expect((await pmsNow.state()).owner).toBe('alice');
  });

  it('reads the token from stdin with --token -, keeping it out of the process list', async () => {
    await freshPms();
    const run = reclaim('claim', ['--token', '-']);
    run.child.stdin!.end(`${await claimToken()}\n`);
    expect((await exitOf(run)).code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ event: 'claimed' });
  });

  it('--token - reads one line of at most a few KiB: an endless stdin is BAD_INPUT, not a crash', async () => {
    await freshPms();
    const run = reclaim('claim', ['--token', '-']);
    const zeros = createReadStream('/dev/zero');
    zeros.pipe(run.child.stdin!);
    run.child.stdin!.on('error', () => {});
    try {
      expect((await exitOf(run)).code).toBe(2);
    } finally {
      zeros.destroy();
    }
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'BAD_INPUT', message: expect.stringMatching(/more than 4 KiB from standard input/) });
    expect(String(lastEvent(run).fix)).toContain('--token -');
  });

  it('an expired token is CLAIM_TOKEN_INVALID with the way to get a new one', async () => {
    const pmsNow = await freshPms();
    const token = await claimToken();
    plexTv.expireClaimTokens();
    const run = reclaim('claim', ['--token', token]);
    expect((await exitOf(run)).code).toBe(1);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'CLAIM_TOKEN_INVALID' });
    expect(String(lastEvent(run).fix)).toContain('plex.tv/claim');
    expect((await pmsNow.state()).claimed).toBe(false);
  });

  it('something that is not a claim token is refused before connecting', async () => {
    const run = reclaim('claim', ['--token', 'my-plex-password']);
    expect((await exitOf(run)).code).toBe(2);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'BAD_INPUT' });
  });

  it('plex.tv down for the server: PMS cannot redeem, and the error says the server must reach plex.tv', async () => {
    await freshPms();
    const token = await claimToken();
    plexTv.setDown(true);
    const run = reclaim('claim', ['--token', token]);
    expect((await exitOf(run)).code).toBe(1);
    expect(lastEvent(run)).toMatchObject({ event: 'error', code: 'SERVER_CANNOT_REACH_PLEX_TV' });
    expect(String(lastEvent(run).fix)).toContain(`\n  reclaim diagnose ${sshd.user.name}@${sshd.host} -i ${key.privatePath} --known-hosts ${knownHosts}`);
  });

  it('a claim whose reply is an HTML page is still verified through /identity', async () => {
    const pmsNow = await freshPms({ malformed: 'claim-html' });
    const run = reclaim('claim', ['--token', await claimToken()]);
    expect((await exitOf(run)).code).toBe(0);
    expect((await pmsNow.state()).claimed).toBe(true);
  });
});

describe('the claim sequence in the core', () => {
  it('retries once with a fresh claim token when the first one has expired on the way', async () => {
    const pmsNow = await freshPms();
    const headers = plexHeaders('claim-retry-test');
    const plex = new PlexTvClient(plexTv.url, headers);
    let fetched = 0;
    const expiringFirst = {
      async claimToken(userToken: string) {
        const token = await plex.claimToken(userToken);
        if (++fetched === 1) plexTv.expireClaimTokens();
        return token;
      },
    };
    const tunnel = await Tunnel.open({
      route: [{ label: 'server', host: sshd.host, port: sshd.port, user: sshd.user.name, configIdentityFiles: [] }],
      connect: { auth: { identityFile: key.privatePath }, hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false }, prompter: {} },
      localPort: 0,
    });
    const client = new PmsClient(tunnel.localUrl, headers);
    const steps: string[] = [];
    try {
      const result = await claimServer({ pms: client, source: { kind: 'account', userToken: alice.token, plexTv: expiringFirst }, onStep: (s) => steps.push(s) });
      expect(result).toMatchObject({ outcome: 'claimed', username: 'alice' });
      expect(steps).toContain('retrying');
      expect(fetched).toBe(2);
      expect((await pmsNow.state()).claimRequests).toHaveLength(2);
    } catch (error) {
      throw isReclaimError(error) ? new Error(`${error.code}: ${error.message}`) : error;
    } finally {
      await client.close();
      await plex.close();
      await tunnel.close();
    }
  });
});
