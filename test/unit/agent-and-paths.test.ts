import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAgent, type PipeDirectory } from '../../electron/core/ssh/agent.js';
import { reclaimDataDir } from '../../electron/core/common/app-paths.js';

// Where the SSH agent and Reclaim's own files are found on each platform. Windows' named pipes
// cannot exist on this Linux machine, so a pipe directory stands in for \\.\pipe\.

const pipes = (names: string[]): PipeDirectory => ({
  exists: (p) => names.some((name) => `\\\\.\\pipe\\${name}` === p),
  list: () => names,
});

describe('finding the SSH agent', () => {
  it('uses SSH_AUTH_SOCK first, on every platform', () => {
    expect(findAgent({ SSH_AUTH_SOCK: '/tmp/agent.sock' }, 'linux')).toBe('/tmp/agent.sock');
    expect(findAgent({ SSH_AUTH_SOCK: '/tmp/agent.sock' }, 'win32', pipes(['openssh-ssh-agent']))).toBe('/tmp/agent.sock');
    expect(findAgent({}, 'linux')).toBeUndefined();
  });

  it('on Windows, prefers the OpenSSH agent pipe, then Pageant\'s pipe for this user', () => {
    expect(findAgent({}, 'win32', pipes(['openssh-ssh-agent', 'pageant.ann.abc123']), 'ann')).toBe('\\\\.\\pipe\\openssh-ssh-agent');
    expect(findAgent({}, 'win32', pipes(['pageant.bob.ffff', 'Pageant.Ann.abc123']), 'ann')).toBe('\\\\.\\pipe\\Pageant.Ann.abc123');
    expect(findAgent({}, 'win32', pipes(['pageant.bob.ffff']), 'ann')).toBeUndefined();
  });
});

describe('Reclaim\'s own folder', () => {
  it('matches Electron\'s userData for "Reclaim" on each platform, and RECLAIM_HOME overrides it', () => {
    expect(reclaimDataDir({ RECLAIM_HOME: '/data/reclaim' }, 'linux')).toBe('/data/reclaim');
    expect(reclaimDataDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32')).toBe(path.join('C:\\Users\\ann\\AppData\\Roaming', 'Reclaim'));
    expect(reclaimDataDir({ XDG_CONFIG_HOME: '/home/ann/.cfg' }, 'linux')).toBe('/home/ann/.cfg/Reclaim');
    expect(reclaimDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/Reclaim$/);
  });
});
