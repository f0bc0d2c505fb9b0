import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAllNetHosts } from '../support/netns.js';
import { startPlexHost, type PlexHost } from '../support/plex-host.js';
import { asAccount, repair, undo } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

/** A server signed in to alice, whose sign-in plex.tv revoked (a password reset signed out every device). */
async function revokedServer(options: Parameters<typeof startPlexHost>[0] = {}): Promise<PlexHost> {
  await ensureTestUser();
  const host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, ...options });
  host.plexTv.signOutEverywhere('alice');
  host.plexTv.addUser({ username: 'bob', email: 'bob@example.com' });
  await host.stopPms();
  await host.startPms();
  return host;
}

describe('repair: sign out, then claim (a deb install, sudo with a password)', () => {
  let host: PlexHost;
  beforeAll(async () => {
    host = await revokedServer();
  });
  afterAll(async () => host?.stop());

  it('moves a server with a revoked sign-in to another account', async () => {
    const before = (await host.readPreferences())!;
    const { result, error, run } = await repair(host, asAccount(host, 'bob'));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ username: 'bob' });
    expect(run.steps).toEqual(['stop started', 'stop done', 'backup started', 'backup done', 'write started', 'write done', 'start started', 'start done', 'claim started', 'claim done', 'verify started', 'verify done']);
    const settings = await host.preferences();
    expect(settings.get('PlexOnlineUsername')).toBe('bob');
    expect((await host.pmsRequest('/identity')).body).toContain('claimed="1"');
    expect(await host.readFile(result!.backup)).toBe(before);
    console.log(run.notices);
  });

  it('undo puts the backup back', async () => {
    const { result, error } = await undo(host);
    expect(error).toBeUndefined();
    expect(result).toBeDefined();
    expect((await host.preferences()).get('PlexOnlineUsername')).toBe('alice');
  });
});
