import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CommandLine, shellWord } from '../../electron/cli/command-line.js';
import { wrapText } from '../../electron/cli/output.js';

// What the command line prints for people: commands to paste that a shell reads back word for
// word, and prose wrapped to the terminal without breaking those commands.

const execFileP = promisify(execFile);

/** The words `sh` makes of a command line. */
async function shellWords(line: string): Promise<string[]> {
  const { stdout } = await execFileP('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`]);
  return stdout.split('\0').slice(0, -1);
}

describe('a suggested command', () => {
  it('quotes every word so that sh reads back exactly what was given', async () => {
    const words = ['plain', "it's", 'two words', '$HOME', '`id`', 'a;b', '*', '', '~/x', 'new\nline', '"quoted"', 'back\\slash'];
    expect(await shellWords(words.map((word) => shellWord(word, 'linux')).join(' '))).toEqual(words);
  });

  it('keeps the server and the options given for reaching it, and -L can be replaced', () => {
    const line = CommandLine.from('me@nas', {
      port: '2222', identity: '/keys/my key', 'known-hosts': '/kh', jump: 'hop', config: '/cfg', 'password-env': 'PW', agent: true,
      'accept-new': false, remote: '127.0.0.1:32401', 'local-port': '9000', json: true,
    });
    expect(line.command('claim')).toBe("reclaim claim me@nas -p 2222 -i '/keys/my key' --password-env PW --agent --known-hosts /kh -J hop -F /cfg --remote 127.0.0.1:32401 -L 9000");
    expect(line.command('tunnel', { localPort: '0', extra: ['--accept-new'] })).toMatch(/ -L 0 --accept-new$/);
  });
});

describe('wrapping for the terminal', () => {
  const fix = 'Fix: Compare SHA256:abc with the server\'s own key (on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Then connect again.';

  it('wraps at spaces under the text after the label, keeping a parenthesised command whole', () => {
    expect(wrapText(fix, 72)).toBe([
      'Fix: Compare SHA256:abc with the server\'s own key',
      '     (on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).',
      '     Then connect again.',
    ].join('\n'));
  });

  it('leaves indented lines (commands to paste, help) and text without a width alone', () => {
    const command = `  reclaim claim me@nas -i '${'/very/long/path/'.repeat(8)}key'`;
    expect(wrapText(command, 40)).toBe(command);
    expect(wrapText(fix, undefined)).toBe(fix);
  });
});
