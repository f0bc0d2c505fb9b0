import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, type CliRun } from '../support/cli.js';
import type { KeyPair } from '../support/keys.js';
import type { NetHost } from '../support/netns.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import type { PlexTv } from '../stand-ins/plex-tv.js';
import type { Pms, PmsOptions } from '../stand-ins/pms.js';
import { startPlexServerScene, type PlexServerScene } from '../support/plex-server.js';

// `reclaim diagnose` against each failure mode it can meet for real here: unclaimed, claimed,
// forwarding forbidden, Plex not running, Docker-style non-local requests, plex.tv unreachable
// or down, TLS interception, and a failed SSH login.

const execFileP = promisify(execFile);

let scene: PlexServerScene;
let home: string;
let key: KeyPair;
let server: NetHost;
let sshd: Sshd;
let plexTv: PlexTv;
let knownHosts: string;

beforeAll(async () => {
  scene = await startPlexServerScene('diagnose');
  ({ home, key, server, sshd, plexTv, knownHosts } = scene);

});

afterEach(async () => scene.reset());
afterAll(async () => scene?.close());

async function freshPms(options: Partial<PmsOptions> = {}): Promise<Pms> {
  return scene.freshPms({ ...options });
}

function diagnose(extra: string[] = [], plexTvUrl = plexTv.url, target = `${sshd.user.name}@${sshd.host}`): CliRun {
  return runCli(['diagnose', target, '-i', key.privatePath, '--known-hosts', knownHosts, '--json', ...extra], {
    home,
    env: { RECLAIM_PLEX_TV_URL: plexTvUrl },
  });
}

async function checksOf(run: CliRun): Promise<{ code: number | null; checks: Record<string, { ok: boolean | null; detail: string; fix?: string }>; summary: unknown }> {
  const { code } = await exitOf(run, 60_000);
  const checks = Object.fromEntries(run.events.events.filter((e) => e.event === 'check').map((e) => [e.id as string, e as never]));
  const summary = run.events.events.at(-1);
  // The CLI turns an error that escaped it into a last "error" line: every run must end with its summary.
  expect(summary, `the last line of: ${run.stdout()}`).toMatchObject({ event: 'summary' });
  return { code, checks, summary };
}

const okIds = (checks: Record<string, { ok: boolean | null }>, value: boolean | null) =>
  Object.entries(checks).filter(([, c]) => c.ok === value).map(([id]) => id).sort();

describe('reclaim diagnose', () => {
  it('an unclaimed server: everything works, and the one failure is "not claimed", with how to claim', async () => {
    await freshPms();
    const { code, checks, summary } = await checksOf(diagnose());
    expect(code).toBe(1);
    expect(summary).toEqual({ event: 'summary', ok: false });
    expect(okIds(checks, false)).toEqual(['pms-claimed']);
    expect(okIds(checks, true)).toEqual(['forwarding', 'local-plex-tv', 'pms-identity', 'pms-listening', 'pms-local', 'server-clock', 'server-dns', 'server-https', 'ssh-login']);
    // The next step is the command for this very server, as it can be pasted.
    expect(checks['pms-claimed']!.fix).toContain(`\n  reclaim claim ${sshd.user.name}@${sshd.host} -i ${key.privatePath} --known-hosts ${knownHosts}`);
    expect(checks['pms-claimed']!.detail).toContain('sign-in state "none"');
  });

  it('a claimed, healthy server passes and exits 0', async () => {
    await freshPms({ claimedBy: { username: 'bob', token: 'bob-token' } });
    const { code, checks, summary } = await checksOf(diagnose());
    expect(summary).toEqual({ event: 'summary', ok: true });
    expect(code).toBe(0);
    expect(checks['pms-claimed']!.ok).toBe(true);
  });

  it('Plex not running: says so, and still checks the server\'s way to plex.tv', async () => {
    const { checks } = await checksOf(diagnose());
    expect(checks['pms-listening']).toMatchObject({ ok: false, detail: expect.stringContaining('Is Plex Media Server running?') });
    expect(checks['pms-identity']!.ok).toBeNull();
    expect(checks['server-https']!.ok).toBe(true);
  });

  it('requests through the tunnel not seen as local (as with Docker bridge networking)', async () => {
    await freshPms({ alsoListenOnHostAddress: true });
    const { checks } = await checksOf(diagnose(['--remote', `${server.address}:32400`]));
    expect(checks['pms-local']).toMatchObject({ ok: false, fix: expect.stringContaining('PLEX_CLAIM') });
  });

  it('forwarding forbidden for the account', async () => {
    const strict = await startSshd({ authorizedKeys: [key.publicLine], config: ['AllowTcpForwarding no'] });
    try {
      await writeFile(knownHosts, `${sshd.knownHostsLine()}\n${strict.knownHostsLine()}\n`);
      const { checks } = await checksOf(diagnose([], plexTv.url, `${strict.user.name}@${strict.host}:${strict.port}`));
      expect(checks['forwarding']).toMatchObject({ ok: false, fix: expect.stringContaining('AllowTcpForwarding') });
      expect(checks['pms-identity']!.ok).toBeNull();
    } finally {
      await strict.stop();
    }
  });

  it('plex.tv unreachable from the server and from here', async () => {
    await freshPms();
    const closed = `http://${server.peerAddress}:9`;
    const { checks } = await checksOf(diagnose([], closed));
    expect(checks['server-https']).toMatchObject({ ok: false, detail: expect.stringContaining('cannot reach') });
    expect(checks['local-plex-tv']).toMatchObject({ ok: false, detail: expect.stringContaining('refused') });
  });

  it('a plex.tv outage is reported from this computer', async () => {
    await freshPms();
    plexTv.setDown(true);
    const { checks } = await checksOf(diagnose());
    expect(checks['local-plex-tv']).toMatchObject({ ok: false, detail: expect.stringContaining('HTTP 503') });
  });

  it('a TLS-intercepting middlebox: certificate trouble named on both sides', async () => {
    await freshPms();
    await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=plex.tv', '-keyout', path.join(home, 'mitm.key'), '-out', path.join(home, 'mitm.crt')]);
    const mitm = https.createServer({ key: await readFile(path.join(home, 'mitm.key')), cert: await readFile(path.join(home, 'mitm.crt')) }, (_req, res) => res.end('intercepted'));
    await new Promise<void>((resolve) => mitm.listen(0, server.peerAddress, () => resolve()));
    try {
      const { checks } = await checksOf(diagnose([], `https://${server.peerAddress}:${(mitm.address() as AddressInfo).port}`));
      expect(checks['server-https']).toMatchObject({ ok: false, detail: expect.stringMatching(/certificate/), fix: expect.stringMatching(/inspection/) });
      expect(checks['local-plex-tv']).toMatchObject({ ok: false, detail: expect.stringMatching(/certificate is not trusted/) });
    } finally {
      mitm.close();
    }
  });

  it('a failed SSH login stops the chain there and says why', async () => {
    const empty = path.join(home, 'empty_known_hosts');
    const run = runCli(['diagnose', `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', empty, '--json'], { home, env: { RECLAIM_PLEX_TV_URL: plexTv.url } });
    const { code, checks } = await checksOf(run);
    expect(code).toBe(1);
    expect(checks['ssh-login']).toMatchObject({ ok: false, detail: expect.stringContaining(sshd.hostKeys[0]!.fingerprint) });
    expect(okIds(checks, null)).toEqual(['forwarding', 'pms-claimed', 'pms-identity', 'pms-listening', 'pms-local', 'pms-starting', 'server-clock', 'server-dns', 'server-https', 'server-log', 'server-sign-in']);
  });
});
