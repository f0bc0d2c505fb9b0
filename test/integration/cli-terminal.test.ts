import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { count, runCliInTerminal, type TerminalRun } from '../support/terminal.js';

// `reclaim tunnel` at a terminal, where it asks: the server's key the first time, a key's
// passphrase, a password. Ctrl+C at a question is a cancellation (exit status 130), an answer
// gets the fix that fits it, and long fixes are wrapped to the terminal's width.

let home: string;
let plainKey: KeyPair;
let lockedKey: KeyPair;
let sshd: Sshd;
/** Accepts keys only: a sign-in that runs out of keys ends there, with AUTH_FAILED. */
let keysOnly: Sshd;
let knownHosts: string;

const PASSPHRASE = 'correct horse battery staple';

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-cli-terminal-'));
  plainKey = await makeKeyPair(home, { type: 'ed25519' });
  lockedKey = await makeKeyPair(home, { type: 'ed25519', name: 'id_locked', passphrase: PASSPHRASE });
  sshd = await startSshd({ authorizedKeys: [plainKey.publicLine, lockedKey.publicLine] });
  keysOnly = await startSshd({
    authorizedKeys: [lockedKey.publicLine],
    config: ['PasswordAuthentication no', 'KbdInteractiveAuthentication no'],
  });
  knownHosts = path.join(home, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n${keysOnly.knownHostsLine()}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  await keysOnly?.stop();
  await rm(home, { recursive: true, force: true });
});

/** A tunnel to `server` whose far end is its own sshd port, so no other service is needed. */
function tunnel(server: Sshd, extra: string[], columns?: number): TerminalRun {
  return runCliInTerminal(
    ['tunnel', `${server.user.name}@${server.host}:${server.port}`, '-L', '0', '--remote', `127.0.0.1:${server.port}`, ...extra],
    { home, columns },
  );
}

const exists = (file: string) => access(file).then(() => true, () => false);
const QUESTION = /\(yes\/no\)\? $/;

describe('the host-key question', () => {
  it('Ctrl+C is a cancellation: CANCELLED, exit status 130, nothing recorded', async () => {
    const file = path.join(home, 'cancelled_known_hosts');
    const run = tunnel(sshd, ['-i', plainKey.privatePath, '--known-hosts', file]);
    await run.waitFor(QUESTION, 'the host-key question');
    run.type('\x03');
    expect((await run.exited).code).toBe(130);
    expect(run.screen()).toContain('(code CANCELLED)');
    expect(run.screen()).not.toContain('HOST_KEY_UNKNOWN');
    expect(await exists(file)).toBe(false);
  });

  it('"no" is HOST_KEY_UNKNOWN, and the fix is to check the key on the server, not a way around the question', async () => {
    const run = tunnel(sshd, ['-i', plainKey.privatePath, '--known-hosts', path.join(home, 'declined_known_hosts')]);
    await run.waitFor(QUESTION, 'the host-key question');
    run.type('no\r');
    expect((await run.exited).code).toBe(1);
    const error = run.screen().slice(run.screen().indexOf('Error:'));
    expect(error).toContain('(code HOST_KEY_UNKNOWN)');
    expect(error).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(error).toContain(sshd.hostKeys[0]!.fingerprint);
    expect(error).not.toContain('--accept-new');
  });

  it('"yes" says where the key was recorded, and the tunnel opens', async () => {
    const file = path.join(home, 'accepted_known_hosts');
    const run = tunnel(sshd, ['-i', plainKey.privatePath, '--known-hosts', file]);
    try {
      await run.waitFor(QUESTION, 'the host-key question');
      run.type('yes\r');
      await run.waitFor(/Tunnel ready: /, 'the tunnel to open');
      expect(run.screen()).toContain(`Recorded the ssh-ed25519 key of ${sshd.host}:${sshd.port} in ~/${path.relative(home, file)};`);
      expect(await readFile(file, 'utf8')).toContain(sshd.hostKeys[0]!.blob.toString('base64'));
      run.type('\x03');
      expect((await run.exited).code).toBe(0);
    } finally {
      run.kill();
    }
  });
});

describe('secrets asked at the terminal', () => {
  it('Ctrl+C at the password question is a cancellation: CANCELLED, exit status 130', async () => {
    const run = tunnel(sshd, ['--known-hosts', knownHosts]);
    await run.waitFor(/password: $/, 'the password question');
    run.type('\x03');
    expect((await run.exited).code).toBe(130);
    expect(run.screen()).toContain('(code CANCELLED)');
  });

  it('a wrong passphrase names the key and the try, and giving up on the key is said before the password question', async () => {
    const run = tunnel(sshd, ['-i', lockedKey.privatePath, '--known-hosts', knownHosts]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await run.waitFor((screen) => count(screen, /Enter passphrase for key /g) === attempt, `passphrase question ${attempt}`);
      run.type(`wrong ${attempt}\r`);
    }
    const screen = await run.waitFor(/password: $/, 'the password question');
    run.type('\x03');
    expect((await run.exited).code).toBe(130);
    // Under the home folder, the key is named the way people write it.
    const shown = `~/${path.relative(home, lockedKey.privatePath)}`;
    expect(screen).toContain(`Enter passphrase for key '${shown}'`);
    expect(screen).toContain(`Wrong passphrase for ${shown}, try 2 of 3.`);
    expect(screen).toContain(`Wrong passphrase for ${shown}, try 3 of 3.`);
    const givenUp = screen.indexOf(`Wrong passphrase for ${shown} 3 times: going on without that key.`);
    expect(givenUp).toBeGreaterThan(0);
    expect(givenUp).toBeLessThan(screen.lastIndexOf('password: '));
    expect(screen).not.toContain('wrong 1');
  });

  it('when the key was the way in, the final fix speaks of that key instead of telling to pass -i', async () => {
    const run = tunnel(keysOnly, ['-i', lockedKey.privatePath, '--known-hosts', knownHosts]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await run.waitFor((screen) => count(screen, /Enter passphrase for key /g) === attempt, `passphrase question ${attempt}`);
      run.type(`wrong ${attempt}\r`);
    }
    expect((await run.exited).code).toBe(1);
    const error = run.screen().slice(run.screen().indexOf('Error:'));
    expect(error).toContain('(code AUTH_FAILED)');
    expect(error).toMatch(new RegExp(`Fix: .*${lockedKey.privatePath.replace(/[.]/g, '\\.')} again with its right\\s+passphrase`, 's'));
    expect(error).not.toMatch(/-i FILE/);
  });
});

describe('on a narrow terminal', () => {
  it('wraps a long fix to its width, continuing under the text after "Fix:"', async () => {
    const columns = 72;
    const run = tunnel(sshd, ['-i', plainKey.privatePath, '--known-hosts', path.join(home, 'narrow_known_hosts')], columns);
    await run.waitFor(QUESTION, 'the host-key question');
    run.type('no\r');
    expect((await run.exited).code).toBe(1);
    const screen = run.screen();
    const fix = screen.slice(screen.indexOf('Fix:'), screen.indexOf('(code ')).trimEnd().split('\n');
    expect(fix.length).toBeGreaterThan(2);
    for (const line of fix) expect(line.length, line).toBeLessThanOrEqual(columns);
    for (const line of fix.slice(1)) expect(line).toMatch(/^ {5}\S/);
    // The command in the fix stays on one line, so it can be copied whole.
    expect(fix.some((line) => line.includes('(on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)'))).toBe(true);
  });
});
