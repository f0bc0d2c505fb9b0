import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../electron/core/ssh/remote-exec.js';
import { TLS_FAILURE } from '../stand-ins/pms-log.mjs';
import { exitOf, runCli, type CliRun } from '../support/cli.js';
import { destroyAllNetHosts } from '../support/netns.js';
import { startPlexHost, type PlexHost } from '../support/plex-host.js';
import { stopAllSshds } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';

// `reclaim inspect` as a person runs it, against the faithful test server (plex-host.ts): the
// built CLI, a real sshd, real sudo with the test user's password, and the plex.tv stand-in.

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/electron/cli/main.js');

let host: PlexHost;
let home: string;
let token: string;

beforeAll(async () => {
  await ensureTestUser();
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-inspect-cli-'));
  host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, logLines: TLS_FAILURE, preferencesMode: 0o600 });
  token = (await host.preferences()).get('PlexOnlineToken')!;
});

afterAll(async () => {
  await host?.stop();
  await stopAllSshds();
  await destroyAllNetHosts();
  if (home) await rm(home, { recursive: true, force: true });
});

const target = () => `${host.user.name}@${host.sshd.host}`;
const sshArgs = () => ['-i', host.key.privatePath, '--known-hosts', host.knownHosts];

function inspect(extra: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  return runCli(['inspect', target(), ...sshArgs(), ...extra], { home, env: { RECLAIM_PLEX_TV_URL: host.plexTv.url, ...env } });
}

describe('reclaim inspect', () => {
  it('--json: one install event as the issue gives it, then a summary; the token never printed', async () => {
    const run = inspect(['--json', '--sudo-password-env', 'SUDO_PW'], { SUDO_PW: host.user.password });
    const { code } = await exitOf(run, 60_000);
    expect(run.stdout()).not.toContain(token);
    expect(run.stdout()).not.toContain(host.user.password);
    const [install, summary] = run.events.events;
    expect(install).toMatchObject({
      event: 'install',
      platform: 'linux',
      preferences: host.paths.preferences,
      logs: `${host.paths.pmsDir}/Logs`,
      service: expect.stringContaining('systemctl stop plexmediaserver'),
      user: 'plex',
      running: true,
      machineIdentifier: (await host.preferences()).get('ProcessedMachineIdentifier'),
      signIn: { token: 'set', username: 'alice', accepted: true },
    });
    expect((install!.findings as Array<{ id: string }>).map((finding) => finding.id)).toEqual(['log-certificate', 'log-device-connections']);
    expect(summary).toMatchObject({ event: 'summary', installs: 1, signInAccepted: true, ok: false });
    expect(run.events.events).toHaveLength(2);
    // The log says the server does not trust plex.tv's certificate: a problem, so exit status 1.
    expect(code).toBe(1);
  });

  it('plain words: the install, "token set", the finding with its line redacted', async () => {
    const run = inspect(['--sudo-password-env', 'SUDO_PW'], { SUDO_PW: host.user.password });
    await exitOf(run, 60_000);
    const text = run.stdout();
    expect(text).toContain('* Linux package (deb/rpm) on Debian GNU/Linux 12 (bookworm)');
    expect(text).toContain('Sign-in: token set, account alice. plex.tv accepts this server\'s sign-in.');
    expect(text).toContain('The server does not trust plex.tv\'s certificate');
    expect(text).toContain('X-Plex-Token=[redacted]');
    expect(text).not.toContain(token);
  });

  it('--json never asks for the sudo password: SUDO_REQUIRED, with how to give it', async () => {
    const run = inspect(['--json']);
    const { code } = await exitOf(run, 60_000);
    expect(code).toBe(1);
    const error = run.events.events.at(-1)!;
    expect(error).toMatchObject({ event: 'error', code: 'SUDO_REQUIRED', fix: expect.stringContaining('--sudo-password-env') });
    expect(run.events.events[0]).toMatchObject({ event: 'install', signIn: { token: 'missing', accepted: null } });
  });

  it('a wrong sudo password: SUDO_REFUSED, exit 1, the password shown nowhere', async () => {
    const run = inspect(['--json', '--sudo-password-env', 'SUDO_PW'], { SUDO_PW: 'not-the-password' });
    const { code } = await exitOf(run, 60_000);
    expect(code).toBe(1);
    expect(run.events.events.at(-1)).toMatchObject({ event: 'error', code: 'SUDO_REFUSED', reason: 'wrong-password' });
    expect(run.stdout() + run.stderr()).not.toContain('not-the-password');
  });

  it('--sudo-password-env naming an unset variable: BAD_INPUT before connecting, exit 2', async () => {
    const run = inspect(['--json', '--sudo-password-env', 'NOT_SET_ANYWHERE']);
    expect((await exitOf(run)).code).toBe(2);
    expect(run.events.events[0]).toMatchObject({ event: 'error', code: 'BAD_INPUT', message: expect.stringContaining('NOT_SET_ANYWHERE') });
  });

  it('at a terminal: asks for the sudo password with echo off, saying it may be the SSH password', async () => {
    // script(1) gives the CLI a terminal, as a person's shell would.
    const command = [process.execPath, CLI, 'inspect', target(), ...sshArgs()].map(shellQuote).join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: home, RECLAIM_HOME: path.join(home, 'reclaim-data'), RECLAIM_PLEX_TV_URL: host.plexTv.url, TERM: 'dumb' },
    });
    let screen = '';
    let answered = false;
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
      if (!answered && /\(often the same as your SSH password\): $/.test(screen)) {
        answered = true;
        child.stdin.write(`${host.user.password}\r`);
      }
    });
    const code = await exited;
    clearTimeout(timer);
    expect(screen).toContain(`Reclaim needs root on the server to `);
    expect(screen).toContain(`[sudo] password for ${host.user.name} on the server (often the same as your SSH password): `);
    expect(screen).not.toContain(host.user.password);
    expect(screen).toContain('Sign-in: token set, account alice.');
    expect(code).toBe(1);
  });
});

describe('reclaim diagnose, on the server\'s Plex install', () => {
  const diagnose = (env: NodeJS.ProcessEnv = {}) =>
    runCli(['diagnose', target(), ...sshArgs(), '--json'], { home, env: { RECLAIM_PLEX_TV_URL: host.plexTv.url, ...env } });
  const checksOf = async (run: CliRun) => {
    await exitOf(run, 90_000);
    return Object.fromEntries(run.events.events.filter((e) => e.event === 'check').map((e) => [e.id as string, e])) as Record<string, { ok: boolean | null; detail: string; fix?: string }>;
  };

  it('never asks for sudo: Preferences only root may read give "run reclaim inspect", not a verdict', async () => {
    const checks = await checksOf(diagnose());
    expect(checks['server-sign-in']).toMatchObject({ ok: null, fix: expect.stringContaining('Run reclaim inspect <server>: it asks for your sudo password') });
    // The log is readable by everyone on a deb install: its findings are reported anyway.
    expect(checks['server-log']).toMatchObject({ ok: false, detail: expect.stringContaining('The server does not trust plex.tv\'s certificate') });
    expect(checks['server-log']!.detail).toContain('X-Plex-Token=[redacted]');
    expect(checks['pms-starting']).toMatchObject({ ok: true });
  });

  it('the server\'s sign-in: accepted, then refused by plex.tv once revoked, with the repair named', async () => {
    await host.runAsRoot(`chmod 644 '${host.paths.preferences}'`);
    expect((await checksOf(diagnose()))['server-sign-in']).toMatchObject({ ok: true, detail: expect.stringContaining('account alice') });
    host.plexTv.revokeToken(token);
    const checks = await checksOf(diagnose());
    expect(checks['server-sign-in']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('plex.tv no longer accepts this server\'s sign-in'),
      fix: expect.stringContaining('reclaim repair'),
    });
    expect(JSON.stringify(checks)).not.toContain(token);
  });

  it('Plex still starting: the check says so and to wait', async () => {
    await host.setStartingUp(1_000_000);
    try {
      await host.runAsRoot('systemctl restart plexmediaserver');
      const checks = await checksOf(diagnose());
      expect(checks['pms-starting']).toMatchObject({ ok: false, detail: expect.stringContaining('still starting'), fix: expect.stringContaining('Wait a few minutes') });
    } finally {
      await host.setStartingUp(0);
      await host.runAsRoot('systemctl restart plexmediaserver');
      await host.waitForPms();
    }
  });
});
