import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliLogFile, exitOf, runCli } from '../support/cli.js';
import { EventLog } from '../support/events.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { httpGet, portIsFree } from '../support/net.js';
import { createNetHost, type NetHost } from '../support/netns.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';

// `reclaim tunnel` as other tools and people use it: the JSON line contract, exit codes, signals,
// passwords from the environment only, and ~/.ssh/config aliases with Include and ProxyJump.

let home: string;
let key: KeyPair;
let jumpHost: NetHost;
let server: NetHost;
let jumpSshd: Sshd;
let sshd: Sshd;
let target: HttpTarget;
let knownHosts: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-cli-'));
  key = await makeKeyPair(home, { type: 'ed25519' });
  jumpHost = await createNetHost();
  // The server is linked only to the jump host: this computer cannot reach it directly.
  server = await createNetHost({ peer: jumpHost });
  target = await startHttpTarget({ host: server });
  jumpSshd = await startSshd({ host: jumpHost, authorizedKeys: [key.publicLine] });
  sshd = await startSshd({ host: server, authorizedKeys: [key.publicLine] });
  knownHosts = path.join(home, 'known_hosts');
  await writeFile(knownHosts, `${jumpSshd.knownHostsLine()}\n${sshd.knownHostsLine()}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  await jumpSshd?.stop();
  await target?.stop();
  await server?.destroy();
  await jumpHost?.destroy();
  await rm(home, { recursive: true, force: true });
});

const readyEvent = (e: Record<string, unknown>) => e.event === 'ready';

describe('reclaim tunnel --json', () => {
  it('prints the ready line, serves through the jump host, and exits 0 on SIGTERM with the port freed', async () => {
    const run = runCli(
      ['tunnel', `${sshd.user.name}@${sshd.host}`, '-J', `${jumpSshd.user.name}@${jumpSshd.host}`, '-i', key.privatePath,
        '--known-hosts', knownHosts, '-L', '0', '--json'],
      { home },
    );
    const ready = await run.events.waitFor(readyEvent, 'the ready line');
    const port = ready.localPort as number;
    expect(ready).toEqual({
      event: 'ready',
      localPort: port,
      localUrl: `http://127.0.0.1:${port}`,
      webUrl: `http://127.0.0.1:${port}/web`,
      hostKey: { type: 'ssh-ed25519', fingerprint: sshd.hostKeys[0]!.fingerprint },
      reconnected: false,
    });
    expect(JSON.parse((await httpGet(port, '/peer')).body)).toEqual({ remoteAddress: '127.0.0.1' });
    run.child.kill('SIGTERM');
    expect(await exitOf(run)).toEqual({ code: 0, signal: null });
    expect(run.events.events.at(-1)).toEqual({ event: 'closed' });
    expect(await portIsFree(port)).toBe(true);
  });

  it('follows a ~/.ssh/config alias through Include and ProxyJump', async () => {
    const ssh = path.join(home, '.ssh');
    await mkdir(path.join(ssh, 'config.d'), { recursive: true });
    await writeFile(path.join(ssh, 'config'), 'Include config.d/*.conf\n\nHost *\n  User nobody-by-default\n');
    await writeFile(path.join(ssh, 'config.d', 'plex.conf'), [
      'Host plexbox',
      `  HostName ${sshd.host}`,
      `  User ${sshd.user.name}`,
      `  IdentityFile ${key.privatePath}`,
      '  ProxyJump bastion',
      'Host bastion',
      `  HostName ${jumpSshd.host}`,
      `  User ${jumpSshd.user.name}`,
      `  IdentityFile ${key.privatePath}`,
      '',
    ].join('\n'));
    const run = runCli(['tunnel', 'plexbox', '--known-hosts', knownHosts, '-L', '0', '--json'], { home });
    try {
      const ready = await run.events.waitFor(readyEvent, 'the ready line');
      expect(JSON.parse((await httpGet(ready.localPort as number, '/peer')).body)).toEqual({ remoteAddress: '127.0.0.1' });
    } finally {
      run.child.kill('SIGTERM');
      await exitOf(run);
      await rm(ssh, { recursive: true, force: true });
    }
  });

  it('never waits for input: an unknown host key is an error line and a non-zero exit', async () => {
    const empty = path.join(home, 'empty_known_hosts');
    const run = runCli(['tunnel', `${sshd.user.name}@${sshd.host}`, '-J', `${jumpSshd.user.name}@${jumpSshd.host}`,
      '-i', key.privatePath, '--known-hosts', empty, '-L', '0', '--json'], { home });
    expect((await exitOf(run)).code).toBe(1);
    const error = run.events.events.at(-1)!;
    expect(error).toMatchObject({ event: 'error', code: 'HOST_KEY_UNKNOWN' });
    expect(error.message).toContain(jumpSshd.hostKeys[0]!.fingerprint);
    expect(String(error.fix)).toMatch(/accept-new/);
  });

  it('--accept-new records a first-seen key in the file given, and uses it next time', async () => {
    const fresh = path.join(home, 'fresh_known_hosts');
    const args = ['tunnel', `${sshd.user.name}@${sshd.host}`, '-J', `${jumpSshd.user.name}@${jumpSshd.host}`,
      '-i', key.privatePath, '--known-hosts', fresh, '-L', '0', '--json'];
    const first = runCli([...args, '--accept-new'], { home });
    await first.events.waitFor(readyEvent, 'the ready line');
    first.child.kill('SIGTERM');
    await exitOf(first);
    const recorded = await readFile(fresh, 'utf8');
    expect(recorded).toContain(sshd.hostKeys[0]!.blob.toString('base64'));
    expect(recorded).toContain(jumpSshd.hostKeys[0]!.blob.toString('base64'));
    const second = runCli(args, { home });
    await second.events.waitFor(readyEvent, 'the ready line without --accept-new');
    second.child.kill('SIGTERM');
    expect((await exitOf(second)).code).toBe(0);
  });
});

describe('npm run reclaim', () => {
  it('stopping npm (SIGTERM) stops the tunnel too, instead of leaving it open with nobody to stop it', async () => {
    // npm passes SIGTERM to the shell it ran the script in, which dies without passing it on.
    const npm = spawn('npm', ['run', '--silent', 'reclaim', '--', 'tunnel', `${sshd.user.name}@${sshd.host}`, '-J', `${jumpSshd.user.name}@${jumpSshd.host}`,
      '-i', key.privatePath, '--known-hosts', knownHosts, '-L', '0', '--json'], {
      cwd: path.resolve('.'),
      env: { PATH: process.env.PATH, HOME: home, RECLAIM_HOME: path.join(home, 'reclaim-data') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const events = new EventLog<Record<string, unknown>>();
    let partial = '';
    npm.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
    });
    // Reclaim holds the write end of this pipe too: it ends only once Reclaim itself has exited.
    const reclaimGone = new Promise<void>((resolve) => npm.stdout!.once('end', () => resolve()));
    try {
      const port = (await events.waitFor(readyEvent, 'the ready line', 60_000)).localPort as number;
      npm.kill('SIGTERM');
      await events.waitFor((e) => e.event === 'closed', 'the tunnel to close after npm was stopped');
      await reclaimGone;
      expect(await portIsFree(port)).toBe(true);
    } finally {
      npm.kill('SIGKILL');
    }
  }, 90_000);
});

describe('reclaim tunnel with a password', () => {
  let passwordSshd: Sshd;
  beforeAll(async () => {
    passwordSshd = await startSshd();
    await writeFile(knownHosts, `${jumpSshd.knownHostsLine()}\n${sshd.knownHostsLine()}\n${passwordSshd.knownHostsLine()}\n`);
  });
  afterAll(async () => passwordSshd?.stop());

  it('takes it from --password-env, and it never appears in any output', async () => {
    const secret = passwordSshd.user.password;
    const run = runCli(
      ['tunnel', `${passwordSshd.user.name}@${passwordSshd.host}:${passwordSshd.port}`, '--password-env', 'PLEX_SSH_PW',
        '--known-hosts', knownHosts, '-L', '0', '--remote', `127.0.0.1:${passwordSshd.port}`, '--json'],
      { home, env: { PLEX_SSH_PW: secret } },
    );
    await run.events.waitFor(readyEvent, 'the ready line');
    run.child.kill('SIGTERM');
    expect((await exitOf(run)).code).toBe(0);
    expect(run.stdout() + run.stderr()).not.toContain(secret);
    // Without --verbose the log stays in its file.
    expect(run.stderr()).toBe('');
  });

  it('writes the connect and the disconnect to Reclaim\'s log, echoes it on stderr with --verbose, never the password', async () => {
    const secret = passwordSshd.user.password;
    const run = runCli(
      ['tunnel', `${passwordSshd.user.name}@${passwordSshd.host}:${passwordSshd.port}`, '--password-env', 'PLEX_SSH_PW',
        '--known-hosts', knownHosts, '-L', '0', '--remote', `127.0.0.1:${passwordSshd.port}`, '--json', '--verbose'],
      { home, env: { PLEX_SSH_PW: secret } },
    );
    const port = (await run.events.waitFor(readyEvent, 'the ready line')).localPort as number;
    run.child.kill('SIGTERM');
    expect((await exitOf(run)).code).toBe(0);
    const mine = (await readFile(cliLogFile(home), 'utf8')).split('\n').filter((line) => line.includes(` cli[${run.child.pid}] `));
    const server = `${passwordSshd.user.name}@${passwordSshd.host}:${passwordSshd.port}`;
    expect(mine).toEqual([
      expect.stringMatching(/ info: reclaim tunnel: started$/),
      expect.stringMatching(new RegExp(`info: tunnel 127\\.0\\.0\\.1:${port}: connecting to ${server}, to forward to 127\\.0\\.0\\.1:${passwordSshd.port} there$`)),
      expect.stringContaining(`info: tunnel 127.0.0.1:${port}: ready, signed in to ${server} (server key ssh-ed25519 ${passwordSshd.hostKeys[0]!.fingerprint})`),
      expect.stringMatching(/ info: reclaim tunnel: SIGTERM received, stopping$/),
      expect.stringContaining(`info: tunnel 127.0.0.1:${port}: closed`),
      expect.stringMatching(/ info: reclaim tunnel: done \(exit status 0\)$/),
    ]);
    expect(run.stderr().trim().split('\n')).toEqual(mine);
    expect(mine.join('\n') + run.stdout() + run.stderr()).not.toContain(secret);
  });

  it('a wrong password is AUTH_FAILED, naming what was tried, without the password', async () => {
    const wrong = 'not-the-password-9f3c';
    const run = runCli(
      ['tunnel', `${passwordSshd.user.name}@${passwordSshd.host}:${passwordSshd.port}`, '--password-env', 'PLEX_SSH_PW',
        '--known-hosts', knownHosts, '-L', '0', '--remote', `127.0.0.1:${passwordSshd.port}`, '--json'],
      { home, env: { PLEX_SSH_PW: wrong } },
    );
    expect((await exitOf(run)).code).toBe(1);
    const error = run.events.events.at(-1)!;
    expect(error).toMatchObject({ event: 'error', code: 'AUTH_FAILED' });
    expect(error.message).toMatch(/password/);
    expect(run.stdout() + run.stderr()).not.toContain(wrong);
    const logged = await readFile(cliLogFile(home), 'utf8');
    expect(logged).toMatch(new RegExp(` cli\\[${run.child.pid}\\] error: tunnel 127\\.0\\.0\\.1:\\d+: could not open: AUTH_FAILED: `));
    expect(logged).not.toContain(wrong);
  });
});

describe('a local port only an administrator may open', () => {
  it('is said to need privileges (not to be in use), with a port to pick instead', async () => {
    const start = Number(await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    expect(start, 'this test needs port 80 to be privileged (sysctl net.ipv4.ip_unprivileged_port_start)').toBeGreaterThan(80);
    const user = await ensureTestUser();
    const own = await mkdtemp(path.join(os.tmpdir(), 'reclaim-cli-user-'));
    await chown(own, user.uid, user.gid);
    try {
      const run = runCli(['tunnel', 'nas', '-L', '80', '--json'], { home: own, as: user });
      expect((await exitOf(run)).code).toBe(1);
      const error = run.events.events.at(-1)!;
      expect(error).toMatchObject({ event: 'error', code: 'PORT_NEEDS_PRIVILEGES', port: 80 });
      expect(error.message).toMatch(/port 80 .*permission denied/);
      expect(error.fix).toMatch(/8888/);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

describe('bad input', () => {
  it.each([
    [['tunnel'], /No server/],
    [['tunnel', 'http://nas:32400/web'], /web address/],
    [['tunnel', 'nas', '-L', '8888:localhost:32400'], /only the local port/],
    [['tunnel', 'nas', '-L', '70000'], /not a port number/],
    [['tunnel', 'nas', '--remote', 'localhost'], /HOST:PORT/],
    [['tunnel', 'nas', '--password-env', 'RECLAIM_TEST_UNSET_VAR'], /not set/],
    [['tunnel', 'nas', '-i', '/nonexistent/key'], /^Cannot read the key file \/nonexistent\/key: there is no such file\.$/],
    [['tunnel', 'nas', '-i', ''], /^"-i" was given an empty value\.$/],
    [['tunnel', 'nas', '--password-env', ''], /^"--password-env" was given an empty value\.$/],
    [['tunnel', 'nas', '--password-env', 'hunter2 is my password'], /^What follows --password-env is not the name of an environment variable/],
    [['tunnel', 'nas', '-L', '-1'], /^"-L" needs a value, but the word after it, "-1", starts with a dash like an option\.$/],
    [['tunnel', 'nas', '-i'], /^"-i" needs a value, but the word after it, "--json", starts with a dash like an option\.$/],
    [['tunnel', 'nas', '--agent=yes'], /^--agent takes no value, but was given "yes"\.$/],
    [['tunnel', 'nas', '--frobnicate'], /^"--frobnicate" is not an option of tunnel\.$/],
    [['frobnicate'], /not a reclaim command/],
  ])('%j is refused with exit 2 and a fix', async (args, message) => {
    const run = runCli([...args, '--json'], { home });
    expect((await exitOf(run)).code).toBe(2);
    const error = run.events.events.at(-1)!;
    expect(error).toMatchObject({ event: 'error', code: 'BAD_INPUT' });
    expect(error.message).toMatch(message);
    expect(String(error.fix).length).toBeGreaterThan(10);
    // Reclaim's own words, not Node's (ERR_PARSE_ARGS_*) nor an errno.
    expect(`${String(error.message)} ${String(error.fix)}`).not.toMatch(/ambiguous|place it at the end|ENOENT|argument missing/);
  });

  it.each([
    [['tunnel', 'nas', '--acept-new'], 'Did you mean --accept-new?'],
    [['tunnel', 'nas', '--known'], 'Did you mean --known-hosts?'],
    [['status', 'nas', '-f', 'my_config'], 'Did you mean -F (--config)?'],
    [['claim', 'nas', '--tokn', '-'], 'Did you mean --token?'],
  ])('a mistyped option %j gets "did you mean"', async (args, guess) => {
    const run = runCli([...args, '--json'], { home });
    expect((await exitOf(run)).code).toBe(2);
    expect(run.events.events.at(-1)).toMatchObject({ event: 'error', code: 'BAD_INPUT', fix: expect.stringContaining(guess) });
  });

  it('--password is not an option, and the fix says why, without echoing what followed it', async () => {
    const run = runCli(['tunnel', 'nas', '--password', 'hunter2-secret', '--json'], { home });
    expect((await exitOf(run)).code).toBe(2);
    const error = run.events.events.at(-1)!;
    expect(error.fix).toMatch(/Did you mean --password-env\?.*never takes a password on the command line/);
    expect(run.stdout() + run.stderr()).not.toContain('hunter2-secret');
  });

  // Issue #8 §5. The server is 127.0.0.1:1, so a check that is missing shows as CONNECT_FAILED
  // (exit 1) instead of reaching any other machine.
  const unreachable = 'nobody@127.0.0.1:1';
  async function badInputFrom(args: string[]): Promise<{ message: string; fix: string }> {
    const run = runCli([...args, '--json'], { home });
    const exit = await exitOf(run);
    const error = run.events.events.at(-1)!;
    expect(error).toMatchObject({ event: 'error', code: 'BAD_INPUT' });
    expect(exit.code).toBe(2);
    return error as unknown as { message: string; fix: string };
  }

  it('refuses a -F file that does not exist, naming it', async () => {
    const missing = path.join(home, 'no-such-config');
    expect((await badInputFrom(['tunnel', unreachable, '-F', missing])).message).toBe(`The SSH config file ${missing} does not exist.`);
  });

  it('names the -F file, not ~/.ssh/config, in an error about what it says', async () => {
    const config = path.join(home, 'other-config');
    await writeFile(config, 'Host tunnelled\n  HostName 127.0.0.1\n  ProxyCommand nc %h %p\n');
    const error = await badInputFrom(['tunnel', 'tunnelled', '-F', config]);
    expect(error.message).toContain(`${config} reaches tunnelled with ProxyCommand`);
    expect(error.message).not.toContain('~/.ssh/config');
  });

  it('names a bad -J hop as a jump host, with its position', async () => {
    expect((await badInputFrom(['tunnel', unreachable, '-J', ','])).message).toBe('Jump host 1 of 2 is empty (in ",").');
    expect((await badInputFrom(['tunnel', unreachable, '-J', '127.0.0.1,bad host'])).message).toMatch(/^Jump host 2 of 2 \("bad host"\): /);
  });

  it('echoes at most 60 characters of a 2000-character host name', async () => {
    const error = await badInputFrom(['tunnel', `${'h'.repeat(2000)}.example`]);
    expect(error.message).toBe(`Host "${'h'.repeat(60)}…" is not a valid host name or IP address.`);
  });

  it('refuses --known-hosts naming a directory, naming it', async () => {
    const folder = path.join(home, 'known-hosts-dir');
    await mkdir(folder, { recursive: true });
    expect((await badInputFrom(['tunnel', unreachable, '--known-hosts', folder])).message).toContain(folder);
  });

  it('never sends what a corrupt key file holds to the terminal', async () => {
    const corrupt = path.join(home, 'id_corrupt');
    await writeFile(corrupt, '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: OWNED\u001b[2J\u001b]0;pwned\u0007,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n');
    const run = runCli(['tunnel', unreachable, '-i', corrupt], { home });
    expect((await exitOf(run)).code).toBe(2);
    expect(run.stderr()).toContain(corrupt);
    expect(run.stderr()).not.toMatch(/OWNED|pwned/i);
  });

  it('explains errors in plain words without --json', async () => {
    const run = runCli(['tunnel', 'nas', '-L', 'abc'], { home });
    expect((await exitOf(run)).code).toBe(2);
    expect(run.stderr()).toMatch(/^Error: Local port \(-L\) "abc" is not a port number\.\nFix: .+\n\(code BAD_INPUT\)\n$/);
    expect(run.stderr()).not.toMatch(/\bat .+\.js:\d+/);
  });
});
