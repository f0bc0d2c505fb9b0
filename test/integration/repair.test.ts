import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPreferencesDocument } from '../../electron/core/server/repair/preferences-edit.js';
import { plexPreferences } from '../stand-ins/pms-preferences.js';
import { destroyAllNetHosts } from '../support/netns.js';
import { startPlexHost, type PlexHost } from '../support/plex-host.js';
import { asAccount, repair, revokedServer as revoked, undo, workingFiles } from '../support/repair-run.js';
import { stopAllSshds } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';

// Repairing the Plex sign-in of a test server with the Plex deb (plex-host.ts) over a real SSH
// session, both ways, as the test user with sudo and its password: a server whose sign-in plex.tv
// revoked ends up claimed by another account, every other setting byte for byte as it was.

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

/** Settings a person's server may hold that a text editor could mangle (plex-repair.md §4). */
const TRICKY = {
  FriendlyName: 'Ben & Jerry\'s <Attic> "NAS"',
  allowedNetworks: Array.from({ length: 60 }, (_, i) => `192.168.${i}.0/255.255.255.0`).join(','),
  customConnections: 'https://plex.example.com:443,http://10.0.0.2:32400?a=1&b=2',
  PublishServerOnPlexOnlineKey: '0',
  LanguageInCloud: '1',
};

async function revokedServer(): Promise<PlexHost> {
  const { host } = await revoked();
  expect(await host.readLog()).toContain('MyPlex: Error 401');
  return host;
}

/** Each setting's exact text in the file ("name='value'" with its spacing and quoting). */
function rawSettings(xml: string): Map<string, string> {
  const document = readPreferencesDocument(xml, 'Preferences.xml');
  return new Map(document.attributes.map((attribute) => [attribute.name, xml.slice(attribute.start, attribute.end)]));
}

function expectOnlySignInChanged(before: string, after: string, changed: string[]): void {
  const old = rawSettings(before);
  const now = rawSettings(after);
  for (const [name, text] of old) if (!changed.includes(name)) expect(now.get(name), name).toBe(text);
  for (const name of now.keys()) if (!changed.includes(name)) expect(old.has(name), `${name} appeared`).toBe(true);
}

/**
 * Reads every process's command line and environment on the server, over and over, until stopped
 * (a bounded number of times): where each was seen holding `secret`, and whether sudo was caught.
 */
function watchProcesses(host: PlexHost, secret: string): { stop(): Promise<{ samples: number; sawSudo: boolean; leaks: string[] }> } {
  let running = true;
  const leaks: string[] = [];
  let sawSudo = false;
  let samples = 0;
  const sample = 'for p in /proc/[0-9]*; do printf "%s\\n" "${p#/proc/}: $(tr "\\000" " " < $p/cmdline 2>/dev/null)"; tr "\\000" "\\n" < $p/environ 2>/dev/null; done';
  const loop = (async () => {
    for (let i = 0; running && i < 5000; i++) {
      const { stdout } = await host.runAsRoot(sample);
      samples++;
      if (/\bsudo -S\b/.test(stdout)) sawSudo = true;
      for (const line of stdout.split('\n')) if (line.includes(secret)) leaks.push(line.replace(secret, '[the password]'));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, sawSudo, leaks };
    },
  };
}

async function expectCleanedUp(host: PlexHost): Promise<void> {
  expect(await workingFiles(host)).toEqual([]);
}

describe('sign out, then claim', () => {
  let host: PlexHost;
  let before: string;
  let backup: string;
  beforeAll(async () => {
    host = await revokedServer();
  });
  afterAll(async () => host?.stop());

  it('moves a server with a revoked sign-in to another account, step by step, the sudo password never in sight', async () => {
    before = (await host.readPreferences())!;
    const owner = await host.stat(host.paths.preferences);
    const watch = watchProcesses(host, host.user.password);
    const { result, error, run } = await repair(host, asAccount(host, 'bob'));
    const watched = await watch.stop();
    expect(error).toBeUndefined();
    // The server's process table was read while sudo ran Reclaim's scripts, and never showed it.
    expect(watched.sawSudo).toBe(true);
    expect(watched.leaks).toEqual([]);
    expect(result).toMatchObject({ username: 'bob', warnings: [] });
    expect(run.steps).toEqual([
      'stop started', 'stop done', 'backup started', 'backup done', 'write started', 'write done',
      'start started', 'start done', 'claim started', 'claim done', 'verify started', 'verify done',
    ]);
    backup = result!.backup;
    expect(backup).toMatch(/\/Preferences\.xml\.reclaim-backup-\d{8}T\d{6}Z$/);
    expect(run.notices).toContainEqual({ event: 'backup', path: backup });

    const settings = await host.preferences();
    expect(settings.get('PlexOnlineUsername')).toBe('bob');
    expect(settings.get('PlexOnlineMail')).toBe('bob@example.com');
    const identity = await host.pmsRequest('/identity');
    expect(identity.body).toContain('claimed="1"');
    // The new sign-in is one plex.tv accepts, and Plex's log says nothing against it.
    const check = await fetch(`${host.plexTv.url}/api/v2/user`, { headers: { 'X-Plex-Token': settings.get('PlexOnlineToken')!, 'X-Plex-Client-Identifier': 'test' } });
    expect(check.status).toBe(200);
    expect((await host.readLog()).split(/Plex Media Server v/).at(-1)).not.toContain('401');

    expect(await host.readFile(backup)).toBe(before);
    expect(await host.stat(backup)).toEqual(owner);
    expect(await host.stat(host.paths.preferences)).toEqual(owner);
    // The certificate of the revoked sign-in was set aside, once.
    expect(await host.listDir(`${host.paths.pmsDir}/Cache`)).toEqual([expect.stringMatching(/^cert-v2\.p12\.reclaim-backup-\d{8}T\d{6}Z$/)]);
    await expectCleanedUp(host);
  });

  it('undo puts that backup back and Plex answers again', async () => {
    const { result, error, run } = await undo(host);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ restored: backup });
    expect(run.steps).toEqual(['stop started', 'stop done', 'backup started', 'backup done', 'write started', 'write done', 'start started', 'start done', 'verify started', 'verify done']);
    // PMS rewrote the file from memory when it stopped; the settings are what the backup held.
    expect(Object.fromEntries(await host.preferences())).toEqual(Object.fromEntries(readSettings(before)));
    expect((await host.pmsRequest('/identity')).status).toBe(200);
    // What undo replaced is kept too.
    expect((await host.readFile(result!.backup))).toContain('PlexOnlineUsername="bob"');
    await expectCleanedUp(host);
  });
});

function readSettings(xml: string): Map<string, string> {
  const document = readPreferencesDocument(xml, 'Preferences.xml');
  return new Map(document.attributes.map((attribute) => [attribute.name, attribute.value]));
}

describe('the offline claim, with tricky settings and an unusual file mode', () => {
  let host: PlexHost;
  beforeAll(async () => {
    await ensureTestUser();
    // Preferences as PMS writes them, holding a sign-in plex.tv does not know (any more) and
    // settings with &, <, " and long lists.
    const dead = { username: 'alice', email: 'alice@example.com', token: 'deadTokenOfAlice1234' };
    host = await startPlexHost({ preferencesMode: 0o640, preferences: plexPreferences({ signedIn: dead, extra: TRICKY }).xml });
    host.plexTv.addUser({ username: 'bob', email: 'bob@example.com' });
  });
  afterAll(async () => host?.stop());

  it('exchanges the claim token first, then writes only the sign-in: every other byte stays', async () => {
    const before = (await host.readPreferences())!;
    const owner = await host.stat(host.paths.preferences);
    expect(owner.mode).toBe(0o640);
    const { result, error, run } = await repair(host, asAccount(host, 'bob'), { choices: { mode: 'offline' } });
    expect(error).toBeUndefined();
    expect(run.steps).toEqual([
      'claim started', 'claim done', 'stop started', 'stop done', 'backup started', 'backup done',
      'write started', 'write done', 'start started', 'start done', 'verify started', 'verify done',
    ]);
    expect(result).toMatchObject({ username: 'bob' });
    const after = (await host.readPreferences())!;
    expectOnlySignInChanged(before, after, ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome']);
    const settings = readSettings(after);
    expect(settings.get('PlexOnlineUsername')).toBe('bob');
    expect(settings.has('PlexOnlineHome')).toBe(false);
    expect(settings.get('PublishServerOnPlexOnlineKey')).toBe('0');
    expect(settings.get('FriendlyName')).toBe(TRICKY.FriendlyName);
    expect(await host.stat(host.paths.preferences)).toEqual(owner);
    expect(await host.readFile(result!.backup)).toBe(before);
    expect(await host.stat(result!.backup)).toEqual(owner);
    // The exchange named the server by its own machine identifier, and PMS now runs claimed by bob.
    const exchange = host.plexTv.requests.find((request) => request.path.startsWith('/api/claim/exchange'))!;
    expect(exchange.headers['x-plex-client-identifier']).toBe(settings.get('ProcessedMachineIdentifier'));
    expect(exchange.headers['x-plex-product']).toBe('Plex Media Server');
    expect((await host.pmsRequest('/identity')).body).toContain('claimed="1"');
    await expectCleanedUp(host);
  });

});
