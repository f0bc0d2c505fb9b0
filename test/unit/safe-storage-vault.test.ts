import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafeStorageVault } from '../../electron/main/safe-storage-vault.js';
import * as electron from '../fakes/electron.js';

// The saved-password file, sealed by the OS (here the Electron fake's safeStorage).

let dir: string;
beforeEach(async () => {
  electron.resetElectronFake();
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-vault-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const secret = (subject: string) => ({ kind: 'password' as const, subject, secret: `pw-${subject}` });

describe('the saved-password vault', () => {
  it('keeps every one of several passwords saved at the same moment', async () => {
    const vault = new SafeStorageVault(path.join(dir, 'saved-secrets.json'));
    const servers = ['attic', 'cellar', 'garage', 'loft', 'shed'];
    await Promise.all(servers.map((id) => vault.save(id, secret(`plex@${id}`))));
    for (const id of servers) expect(await vault.load(id)).toEqual(secret(`plex@${id}`));
  });

  it('forgets one while another is saved, losing neither change', async () => {
    const vault = new SafeStorageVault(path.join(dir, 'saved-secrets.json'));
    await vault.save('attic', secret('plex@attic'));
    await Promise.all([vault.forget('attic'), vault.save('cellar', secret('plex@cellar'))]);
    expect(await vault.has('attic')).toBe(false);
    expect(await vault.load('cellar')).toEqual(secret('plex@cellar'));
    // Sealed on disk, never in plain text.
    expect(await readFile(path.join(dir, 'saved-secrets.json'), 'utf8')).not.toContain('pw-plex@cellar');
  });
});
