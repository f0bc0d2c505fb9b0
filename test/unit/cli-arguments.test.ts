import { describe, expect, it } from 'vitest';
import { parseArguments, type OptionSpecs } from '../../electron/cli/arguments.js';
import { isReclaimError } from '../../electron/core/common/errors.js';

// The command line's own reading of its arguments: each mistake named in Reclaim's words, with a
// guess at what was meant.

const SPECS: OptionSpecs = {
  'local-port': { type: 'string', short: 'L', example: '8888' },
  identity: { type: 'string', short: 'i', example: '~/.ssh/id_ed25519' },
  'known-hosts': { type: 'string' },
  'accept-new': { type: 'boolean' },
  config: { type: 'string', short: 'F' },
  help: { type: 'boolean', short: 'h' },
};

function refusal(args: string[]): { message: string; fix: string } {
  try {
    parseArguments('tunnel', args, SPECS);
  } catch (error) {
    if (isReclaimError(error) && error.code === 'BAD_INPUT') return { message: error.message, fix: error.fix };
    throw error;
  }
  throw new Error(`${JSON.stringify(args)} was accepted`);
}

describe('reading a command\'s arguments', () => {
  it('reads options, values and the server', () => {
    expect(parseArguments('tunnel', ['nas', '-L', '0', '--identity=/k', '--accept-new', '-F', '-'], SPECS)).toEqual({
      values: { 'local-port': '0', identity: '/k', 'accept-new': true, config: '-' },
      positionals: ['nas'],
    });
  });

  it('a value missing at the end says so, with an example', () => {
    expect(refusal(['nas', '-L'])).toEqual({ message: '"-L" needs a value after it.', fix: 'Give it right after the option, for example -L 8888.' });
  });

  it('a value that starts with a dash can still be given with =', () => {
    expect(refusal(['nas', '-L', '-1']).fix).toContain('--local-port=-1');
    expect(parseArguments('tunnel', ['nas', '--local-port=-1'], SPECS).values['local-port']).toBe('-1');
  });

  it('guesses the option meant: a prefix, a typo, a letter in the wrong case, and nothing when nothing is close', () => {
    expect(refusal(['nas', '--known']).fix).toMatch(/^Did you mean --known-hosts\?/);
    expect(refusal(['nas', '--acept-new']).fix).toMatch(/^Did you mean --accept-new\?/);
    expect(refusal(['nas', '--identity-file', 'k']).fix).toMatch(/^Did you mean --identity\?/);
    expect(refusal(['nas', '-l', '9']).fix).toMatch(/^Did you mean -L \(--local-port\)\?/);
    expect(refusal(['nas', '--frobnicate']).fix).toMatch(/^Leave it out/);
  });

  it('never echoes more than a line of what was typed', () => {
    const { message } = refusal(['nas', `--${'x'.repeat(2000)}`]);
    expect(message.length).toBeLessThan(120);
  });

  it('--help wins over any other mistake', () => {
    expect(parseArguments('tunnel', ['--frobnicate', '--help'], SPECS).values.help).toBe(true);
  });
});
