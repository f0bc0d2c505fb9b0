import { describe, expect, it } from 'vitest';
import { runLocked } from './test-user.js';

// The helper that creates the sshd test account (useradd, chpasswd under a lock). A command that
// exits without reading its input used to break the pipe with an EPIPE 'error' nobody listened
// to: under CPU load that hit a test file's beforeAll at random and failed the whole run.

// Far more than a pipe holds, so the write is still pending when the command exits: EPIPE for sure.
const MORE_THAN_A_PIPE_HOLDS = 'x'.repeat(4 * 1024 * 1024);

describe('runLocked', () => {
  it('says so in words when the command exits without reading its input', async () => {
    await expect(runLocked(['true'], MORE_THAN_A_PIPE_HOLDS)).rejects.toThrow('true exited before reading all its input (write EPIPE)');
  });

  it('reports a failing command with its exit code, whether or not it had input', async () => {
    await expect(runLocked(['sh', '-c', 'echo nope >&2; exit 3'], MORE_THAN_A_PIPE_HOLDS)).rejects.toThrow('sh exited with 3: nope');
    await expect(runLocked(['sh', '-c', 'echo nope >&2; exit 3'])).rejects.toThrow('sh exited with 3: nope');
  });

  it('passes the input to a command that reads it', async () => {
    await expect(runLocked(['sh', '-c', 'test "$(cat)" = hello'], 'hello\n')).resolves.toBeUndefined();
    await expect(runLocked(['sh', '-c', 'test "$(cat)" = ""'])).resolves.toBeUndefined();
  });
});
