import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRoute } from '../../electron/core/ssh/route.js';
import { reclaimErrorOf } from '../support/failure.js';

// From what a person typed to the hops to log in to, with ~/.ssh/config applied like ssh does.

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-route-'));
  config = path.join(dir, 'config');
  await writeFile(config, [
    'Host plex', '  HostName media.example.com', '  User media', '  Port 2222', '  ProxyJump ops@bastion:2200',
    'Host bastion', '  HostName bastion.example.com',
    'Host tunnelled', '  ProxyCommand cloudflared access ssh --hostname %h',
    'Host badjump', '  ProxyJump "bastion,bad host"',
    '',
  ].join('\n'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the route to a server', () => {
  it('applies the alias, with its jump host resolved through the config too', async () => {
    const hops = await resolveRoute({ target: 'plex', config: { configFile: config, homeDir: dir, localUser: 'me' } });
    expect(hops.map((h) => [h.label, h.user, h.host, h.port])).toEqual([
      ['ops@bastion:2200', 'ops', 'bastion.example.com', 2200],
      ['plex', 'media', 'media.example.com', 2222],
    ]);
  });

  it('lets -J and -p from the command line win over the config', async () => {
    const hops = await resolveRoute({ target: 'someone@plex', port: 22, jump: 'gw.example.com', config: { configFile: config, homeDir: dir, localUser: 'me' } });
    expect(hops.map((h) => [h.user, h.host, h.port])).toEqual([['me', 'gw.example.com', 22], ['someone', 'media.example.com', 22]]);
  });

  it('refuses ProxyCommand instead of ignoring it or running it', async () => {
    const error = await reclaimErrorOf(resolveRoute({ target: 'tunnelled', config: { configFile: config, homeDir: dir, localUser: 'me' } }));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toMatch(/ProxyCommand, which Reclaim never runs/);
    expect(error.fix).toMatch(/ProxyJump|-J/);
  });

  it('names the config file it read, not ~/.ssh/config, when that file is another one', async () => {
    const error = await reclaimErrorOf(resolveRoute({ target: 'tunnelled', config: { configFile: config, homeDir: dir, localUser: 'me' } }));
    expect(error.message).toBe(`${config} reaches tunnelled with ProxyCommand, which Reclaim never runs (it would execute a program from the config).`);
  });

  it('names the jump host, its position and the ProxyJump it came from', async () => {
    const fromConfig = await reclaimErrorOf(resolveRoute({ target: 'badjump', config: { configFile: config, homeDir: dir, localUser: 'me' } }));
    expect(fromConfig.message).toBe(`The ProxyJump for badjump in ${config}: Jump host 2 of 2 ("bad host"): Host "bad host" is not a valid host name or IP address.`);
    const typed = await reclaimErrorOf(resolveRoute({ target: 'plex', jump: ',', config: { configFile: config, homeDir: dir, localUser: 'me' } }));
    expect(typed.message).toBe('Jump host 1 of 2 is empty (in ",").');
  });
});
