import { describe, expect, it } from 'vitest';
import { asReclaimError, isCancelled, isReclaimError, ReclaimError, storageFailed } from '../../electron/core/common/errors.js';
import { toErrorInfo } from '../../electron/core/app/error-info.js';

// ReclaimError as its consumers use it: the window (toErrorInfo), the CLI's --json output
// (toJSON) and the log (the cause, with its stack). Details are typed per code: the expected
// type errors marked below fail the typecheck if a wrong fact were accepted.

function changedKey(): ReclaimError {
  return new ReclaimError('HOST_KEY_CHANGED', 'The key changed.', 'Ask the admin.', {
    host: 'nas', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:new',
    known: [{ file: '/home/me/.ssh/known_hosts', line: 3, type: 'ssh-ed25519', fingerprint: 'SHA256:old' }],
  });
}

describe('a ReclaimError', () => {
  it('keeps what it wraps as its cause, with the stack of where that was thrown', () => {
    const original = new Error('disk on fire');
    const error = asReclaimError(original);
    expect(error.code).toBe('UNEXPECTED');
    expect(error.message).toBe('Something unexpected went wrong: disk on fire');
    expect(error.cause).toBe(original);
    expect((error.cause as Error).stack).toContain('errors.test.ts');
    // Reclaim's own errors pass as they are.
    const ours = changedKey();
    expect(asReclaimError(ours)).toBe(ours);
  });

  it('wraps things that are not errors, too', () => {
    const error = asReclaimError('a string');
    expect(error).toMatchObject({ code: 'UNEXPECTED', message: 'Something unexpected went wrong: a string', cause: 'a string' });
  });

  it('has the facts of its code, without casts, once the code is checked', () => {
    const error: ReclaimError = changedKey();
    if (error.code !== 'HOST_KEY_CHANGED') throw new Error('not the code it was made with');
    expect(error.details.known[0]!.line).toBe(3);
    expect(toErrorInfo(error).hostKey).toEqual({
      known: 'SHA256:old', seen: 'SHA256:new', file: '/home/me/.ssh/known_hosts', line: 3, serverCommand: 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub',
    });
  });

  it('refuses, at compile time, facts that are not its code\'s', () => {
    // @ts-expect-error PORT_IN_USE has a port, not a form field
    void new ReclaimError('PORT_IN_USE', 'm', 'f', { field: 'host' });
    // @ts-expect-error HOST_KEY_CHANGED cannot do without the key on record
    void new ReclaimError('HOST_KEY_CHANGED', 'm', 'f');
    // @ts-expect-error no such code
    void new ReclaimError('SIGNIN_CANCELLED', 'm', 'f');
    const fine = new ReclaimError('CANCELLED', 'Stopped.', 'Start again.');
    expect(fine.details).toEqual({});
  });

  it('prints as --json wants it: its facts, code, message and fix, never a cause or a stack', () => {
    const error = new ReclaimError('PORT_IN_USE', 'Port 8888 is in use.', 'Pick another.', { port: 8888, errno: 'EADDRINUSE' }, { cause: new Error('listen EADDRINUSE') });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ port: 8888, errno: 'EADDRINUSE', code: 'PORT_IN_USE', message: 'Port 8888 is in use.', fix: 'Pick another.' });
    expect(JSON.stringify(asReclaimError(new Error('boom')))).not.toMatch(/errors\.test|\bat /);
  });

  it('tells a cancellation from a failure with one check', () => {
    expect(isCancelled(new ReclaimError('CANCELLED', 'The Plex sign-in was cancelled.', 'Start it again.'))).toBe(true);
    expect(isCancelled(changedKey())).toBe(false);
    expect(isCancelled(new Error('cancelled'))).toBe(false);
    expect(isReclaimError(new Error('x'))).toBe(false);
  });

  it('STORAGE_FAILED names the file, what the system said, and where to look', () => {
    const cause = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const error = storageFailed('/home/me/.config/Reclaim/servers.json', cause);
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', details: { file: '/home/me/.config/Reclaim/servers.json', errno: 'EACCES' }, cause });
    expect(error.message).toBe('Reclaim could not save its file /home/me/.config/Reclaim/servers.json (permission denied).');
    expect(error.fix).toContain('/home/me/.config/Reclaim');
  });
});
