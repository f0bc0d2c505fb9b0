import { describe, expect, it } from 'vitest';
import { Privilege } from '../../electron/core/server/privilege.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';
import { RemoteTimeoutError, type RemoteResult, type RunOptions } from '../../electron/core/ssh/remote-exec.js';

// Root for reading Plex's files: the login itself, `sudo -n`, then `sudo -S` with the password on
// sudo's standard input only. What sudo prints when it refuses is taken from sudo 1.9 on Debian.

const PASSWORD = 'hunter2 "and" $(more)';

interface Call {
  command: string;
  options: RunOptions;
}

/** A server whose sudo behaves as `sudo` says; the script "runs" by printing what sudo lets through. */
function fakeServer(sudo: (command: string, stdin: string | undefined) => Partial<RemoteResult> | 'hang', uid = 1000): { shell: ServerShell; calls: Call[] } {
  const calls: Call[] = [];
  const shell: ServerShell = async (command, options = {}) => {
    calls.push({ command, options });
    if (command.includes('id -u')) return { exitCode: 0, stdout: `${uid} alice\n`, stderr: '', truncated: false };
    if (command.startsWith('sudo ')) {
      const answer = sudo(command, options.stdin);
      if (answer === 'hang') throw new RemoteTimeoutError(options.timeoutMs ?? 0);
      return { exitCode: 0, stdout: '', stderr: '', truncated: false, ...answer };
    }
    return { exitCode: 0, stdout: 'as user', stderr: '', truncated: false };
  };
  return { shell, calls };
}

const granted = { exitCode: 0, stdout: 'reclaim-as-root\u0000the script ran' };

describe('running as root', () => {
  it('signed in as root: no sudo at all', async () => {
    const { shell, calls } = fakeServer(() => ({ exitCode: 1 }), 0);
    const result = await new Privilege(shell).asRoot('echo hi', 'test', 'read Plex\'s Preferences');
    expect(result.stdout).toBe('as user');
    expect(calls.some((call) => call.command.startsWith('sudo'))).toBe(false);
  });

  it('sudo without a password (NOPASSWD): sudo -n, and no password asked', async () => {
    let asked = 0;
    const { shell, calls } = fakeServer((command) => (command.startsWith('sudo -n') ? granted : { exitCode: 1 }));
    const privilege = new Privilege(shell, async () => {
      asked++;
      return PASSWORD;
    });
    expect((await privilege.asRoot('echo hi', 'test', 'read it')).stdout).toBe('the script ran');
    expect(asked).toBe(0);
    expect(calls.filter((call) => call.command.startsWith('sudo')).map((call) => call.command.slice(0, 12))).toEqual(['sudo -n -- s']);
  });

  it('sudo with a password: asked once, saying why, and written only to sudo\'s standard input', async () => {
    const requests: Array<{ user: string; reason: string }> = [];
    const { shell, calls } = fakeServer((command, stdin) => {
      if (command.startsWith('sudo -n')) return { exitCode: 1, stderr: 'sudo: a password is required\n' };
      return stdin === `${PASSWORD}\n` ? granted : { exitCode: 1, stderr: 'Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n' };
    });
    const privilege = new Privilege(shell, async (request) => {
      requests.push(request);
      return PASSWORD;
    });
    expect((await privilege.asRoot('echo one', 'test', 'read Plex\'s Preferences')).stdout).toBe('the script ran');
    expect((await privilege.asRoot('echo two', 'test', 'read the log')).stdout).toBe('the script ran');
    expect(requests).toEqual([{ user: 'alice', reason: 'read Plex\'s Preferences' }]);
    const withPassword = calls.filter((call) => call.command.startsWith('sudo -S'));
    expect(withPassword).toHaveLength(2);
    for (const call of calls) expect(call.command).not.toContain('hunter2');
    expect(withPassword.every((call) => call.options.stdin === `${PASSWORD}\n` && call.command.startsWith("sudo -S -p '' -- sh -c"))).toBe(true);
  });

  it('no password to give: SUDO_REQUIRED, naming how to give one', async () => {
    const { shell } = fakeServer(() => ({ exitCode: 1, stderr: 'sudo: a password is required\n' }));
    await expect(new Privilege(shell, async () => undefined).asRoot('x', 'test', 'read Plex\'s Preferences')).rejects.toMatchObject({
      code: 'SUDO_REQUIRED',
      message: 'Reclaim needs root on the server to read Plex\'s Preferences, and sudo asks alice for a password.',
      fix: expect.stringContaining('--sudo-password-env NAME'),
    });
  });

  it('a wrong password: SUDO_REFUSED, tried once only (so it cannot lock the account), the password never shown', async () => {
    const { shell, calls } = fakeServer((command) => command.startsWith('sudo -n')
      ? { exitCode: 1, stderr: 'sudo: a password is required\n' }
      : { exitCode: 1, stderr: `Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n` });
    const privilege = new Privilege(shell, 'wrong one');
    const first = await privilege.asRoot('x', 'test', 'read it').catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'wrong-password' } });
    expect(JSON.stringify(first)).not.toContain('wrong one');
    await expect(privilege.asRoot('y', 'test', 'read it')).rejects.toBe(first);
    expect(calls.filter((call) => call.command.startsWith('sudo -S'))).toHaveLength(1);
  });

  it('a user sudo does not allow, a requiretty sudo, no sudo at all', async () => {
    const notAllowed = fakeServer((command) => command.startsWith('sudo -n') ? { exitCode: 1, stderr: 'sudo: a password is required\n' } : { exitCode: 1, stderr: 'alice is not in the sudoers file.\n' });
    await expect(new Privilege(notAllowed.shell, 'pw').asRoot('x', 't', 'r')).rejects.toMatchObject({ code: 'SUDO_REFUSED', message: 'The server does not let alice use sudo (it said: "alice is not in the sudoers file.").' });
    const tty = fakeServer(() => ({ exitCode: 1, stderr: 'sudo: sorry, you must have a tty to run sudo\n' }));
    await expect(new Privilege(tty.shell, 'pw').asRoot('x', 't', 'r')).rejects.toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'tty' } });
    const missing = fakeServer(() => ({ exitCode: 127, stderr: 'sh: 1: sudo: not found\n' }));
    await expect(new Privilege(missing.shell, 'pw').asRoot('x', 't', 'r')).rejects.toMatchObject({ code: 'SUDO_REQUIRED', message: expect.stringContaining('sudo is not installed') });
  });

  it('a sudo that hangs (a second factor, a terminal prompt): SUDO_REFUSED within the bound, never waiting for ever', async () => {
    const { shell, calls } = fakeServer(() => 'hang');
    await expect(new Privilege(shell, 'pw').asRoot('x', 't', 'r', { timeoutMs: 600_000 })).rejects.toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'timeout' } });
    expect(calls.filter((call) => call.command.startsWith('sudo')).every((call) => (call.options.timeoutMs ?? Infinity) <= 30_000)).toBe(true);
  });

  it('a password with a line break is refused before it reaches sudo', async () => {
    const { shell, calls } = fakeServer((command) => command.startsWith('sudo -n') ? { exitCode: 1, stderr: 'sudo: a password is required\n' } : granted);
    await expect(new Privilege(shell, 'two\nlines').asRoot('x', 't', 'r')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(calls.some((call) => call.command.startsWith('sudo -S'))).toBe(false);
  });
});
