import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort, parseJumpList, parsePort, parseSshAddress } from '../../electron/core/common/target.js';

function inputError(run: () => unknown): { code: string; message: string; fix: string } {
  try {
    run();
  } catch (error) {
    return error as { code: string; message: string; fix: string };
  }
  throw new Error('expected an input error');
}

describe('what a person types as the server', () => {
  it('reads user, host and port in the forms ssh accepts', () => {
    expect(parseSshAddress('plex@media.example.com:2222')).toEqual({ user: 'plex', host: 'media.example.com', port: 2222 });
    expect(parseSshAddress('192.168.1.20')).toEqual({ user: undefined, host: '192.168.1.20', port: undefined });
    expect(parseSshAddress('admin@[2001:db8::1]:22')).toEqual({ user: 'admin', host: '2001:db8::1', port: 22 });
    expect(parseSshAddress('::1')).toEqual({ user: undefined, host: '::1', port: undefined });
    expect(parseSshAddress('ssh://me@nas:2200')).toEqual({ user: 'me', host: 'nas', port: 2200 });
    expect(parseSshAddress('  my-alias ')).toEqual({ user: undefined, host: 'my-alias', port: undefined });
  });

  it('rejects web addresses, spaces and bad ports with a way to fix them', () => {
    const web = inputError(() => parseSshAddress('http://nas:32400/web'));
    expect(web.code).toBe('BAD_INPUT');
    expect(web.message).toMatch(/nas|web address|not/);
    const spaced = inputError(() => parseSshAddress('my server'));
    expect(spaced.message).toContain('"my server"');
    expect(spaced.fix).toMatch(/for example/);
    const port = inputError(() => parseSshAddress('nas:99999'));
    expect(port.message).toContain('99999');
    expect(port.fix).toMatch(/1 to 65535/);
    expect(inputError(() => parseSshAddress('')).code).toBe('BAD_INPUT');
    expect(inputError(() => parseSshAddress('a b@nas')).message).toContain('User name');
  });
});

describe('ports and far ends', () => {
  it('allows 0 only where it means "any free port"', () => {
    expect(parsePort('0', 'Local port', { allowZero: true })).toBe(0);
    expect(inputError(() => parsePort('0', 'SSH port')).fix).toMatch(/1 to 65535/);
    expect(inputError(() => parsePort('8888x', 'Local port')).message).toContain('8888x');
  });

  it('reads HOST:PORT including bracketed IPv6', () => {
    expect(parseHostPort('127.0.0.1:32400', 'Remote')).toEqual({ host: '127.0.0.1', port: 32400 });
    expect(parseHostPort('[::1]:32400', 'Remote')).toEqual({ host: '::1', port: 32400 });
    expect(inputError(() => parseHostPort('32400', 'Remote')).fix).toContain('127.0.0.1:32400');
    expect(formatHostPort('::1', 32400)).toBe('[::1]:32400');
  });

  it('reads a list of jump hosts', () => {
    expect(parseJumpList('bastion,ops@inner:2222')).toEqual([
      { user: undefined, host: 'bastion', port: undefined },
      { user: 'ops', host: 'inner', port: 2222 },
    ]);
  });

  it('names a bad jump host by its position, and an empty one as empty', () => {
    const bad = inputError(() => parseJumpList('bastion,bad host,inner'));
    expect(bad.code).toBe('BAD_INPUT');
    expect(bad.message).toBe('Jump host 2 of 3 ("bad host"): Host "bad host" is not a valid host name or IP address.');
    expect(bad.fix).toMatch(/separated by commas/);
    // `-J ,` used to say "No server was given.", as if the server itself were missing.
    expect(inputError(() => parseJumpList(',')).message).toBe('Jump host 1 of 2 is empty (in ",").');
    expect(inputError(() => parseJumpList('bastion,')).message).toMatch(/^Jump host 2 of 2 is empty/);
  });
});

describe('what is echoed back', () => {
  it('shows at most 60 characters of what was typed', () => {
    const error = inputError(() => parseSshAddress(`${'a'.repeat(2000)} b`));
    expect(error.message).toBe(`Host "${'a'.repeat(60)}…" is not a valid host name or IP address.`);
    expect(inputError(() => parsePort('9'.repeat(500), 'SSH port')).message).toBe(`SSH port "${'9'.repeat(60)}…" is not a port number.`);
  });

  it('writes control characters out instead of sending them to the terminal', () => {
    expect(inputError(() => parseSshAddress('nas\u001b[2J\nFix- run rm')).message).toBe(
      'Host "nas\\u001b[2J\\nFix- run rm" is not a valid host name or IP address.',
    );
  });
});
