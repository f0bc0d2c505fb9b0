import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliLogFile, exitOf, runCli, type CliRun } from '../support/cli.js';
import { destroyAllNetHosts } from '../support/netns.js';
import type { PlexHost } from '../support/plex-host.js';
import { revokedServer, workingFiles } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';

// `reclaim repair` as a person runs it, against the test server: sign in with Plex (the test
// approves the PIN as bob would in the browser), read the plan, say yes, and get a server claimed
// by bob; then `--undo`. The sudo password comes from --sudo-password-env and is nowhere in what
// Reclaim prints or logs.

let host: PlexHost;
let original: string;
let home: string;

beforeAll(async () => {
  ({ host, original } = await revokedServer());
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-repair-cli-'));
});

afterAll(async () => {
  await host?.stop();
  await stopAllSshds();
  await destroyAllNetHosts();
  if (home) await rm(home, { recursive: true, force: true });
});

function reclaim(extra: string[]): CliRun {
  return runCli(['repair', `${host.user.name}@${host.sshd.host}`, '-p', String(host.sshd.port), '-i', host.key.privatePath, '--known-hosts', host.knownHosts, '--json', '--sudo-password-env', 'SUDO_PASS', ...extra], {
    home,
    env: { RECLAIM_PLEX_TV_URL: host.plexTv.url, SUDO_PASS: host.user.password },
  });
}

async function approveSignIn(run: CliRun, username: string): Promise<void> {
  const signin = await run.events.waitFor((event) => event.event === 'signin', 'the sign-in URL', 60_000);
  const code = new URLSearchParams(new URL(String(signin.url)).hash.replace(/^#\??/, '')).get('code')!;
  host.plexTv.approvePin(code, username);
}

async function expectNoPassword(run: CliRun): Promise<void> {
  const log = await readFile(cliLogFile(home), 'utf8');
  for (const text of [run.stdout(), run.stderr(), log]) expect(text).not.toContain(host.user.password);
}

describe('reclaim repair', () => {
  it('without --yes shows the plan, asks for nothing, changes nothing', async () => {
    const run = reclaim([]);
    const { code } = await exitOf(run, 60_000);
    expect(code).toBe(1);
    const [plan, error] = run.events.events;
    expect(plan).toMatchObject({
      event: 'plan', action: 'repair', mode: 'signout', platform: 'linux',
      preferences: host.paths.preferences, account: null, current: { username: 'alice', accepted: false },
      backup: expect.stringMatching(/Preferences\.xml\.reclaim-backup-\d{8}T\d{6}Z$/),
      steps: [
        { step: 'stop', text: expect.any(String) }, { step: 'backup', text: expect.any(String) }, { step: 'write', text: expect.any(String) },
        { step: 'start', text: expect.any(String) }, { step: 'claim', text: expect.any(String) }, { step: 'verify', text: expect.any(String) },
      ],
    });
    expect(String(plan!.why)).toMatch(/directly on the server/);
    expect(error).toMatchObject({ event: 'error', code: 'CONFIRMATION_REQUIRED', fix: expect.stringContaining('--yes') });
    expect(run.events.events).toHaveLength(2);
    expect(await host.readPreferences()).toBe(original);
    expect(await workingFiles(host)).toEqual([]);
  });

  it('--yes: signs in, shows the plan for that account, repairs and says who owns the server now', async () => {
    const run = reclaim(['--yes']);
    await approveSignIn(run, 'bob');
    const { code } = await exitOf(run, 120_000);
    expect(code, run.stderr() + run.stdout()).toBe(0);
    const events = run.events.events;
    expect(events.find((event) => event.event === 'plan')).toMatchObject({ account: 'bob', accountText: expect.stringContaining('bob') });
    expect(events.filter((event) => event.event === 'step').map((event) => `${event.step} ${event.state}`)).toEqual([
      'stop started', 'stop done', 'backup started', 'backup done', 'write started', 'write done',
      'start started', 'start done', 'claim started', 'claim done', 'verify started', 'verify done',
    ]);
    const backup = events.find((event) => event.event === 'backup');
    expect(backup).toMatchObject({ path: expect.stringMatching(/reclaim-backup-/) });
    expect(events.at(-1)).toMatchObject({ event: 'repaired', username: 'bob', machineIdentifier: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(await host.readFile(String(backup!.path))).toBe(original);
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('bob');
    await expectNoPassword(run);
  });

  it('--undo --yes puts the backup back and exits 0 once Plex answers', async () => {
    const run = reclaim(['--undo', '--yes']);
    const { code } = await exitOf(run, 120_000);
    expect(code, run.stderr() + run.stdout()).toBe(0);
    expect(run.events.events.find((event) => event.event === 'plan')).toMatchObject({ action: 'undo', restore: expect.stringMatching(/reclaim-backup-/) });
    expect(run.events.events.at(-1)).toMatchObject({ event: 'restored', path: expect.stringMatching(/reclaim-backup-/) });
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('alice');
    expect(await workingFiles(host)).toEqual([]);
    await expectNoPassword(run);
  });

  it('a wrong --mode is input to correct (exit 2), before connecting', async () => {
    const run = reclaim(['--mode', 'sideways']);
    expect((await exitOf(run)).code).toBe(2);
    expect(run.events.events).toEqual([expect.objectContaining({ event: 'error', code: 'BAD_INPUT', message: expect.stringContaining('--mode sideways') })]);
  });
});
