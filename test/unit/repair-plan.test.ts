import { afterEach, describe, expect, it } from 'vitest';
import { readExchangeReply } from '../../electron/core/plex/plex-tv.js';
import { inspectWith } from '../../electron/core/server/inspect.js';
import type { InspectReport } from '../../electron/core/server/inspect-report.js';
import { formatJournal, parseJournal, recoveryFor, type Journal } from '../../electron/core/server/repair/journal.js';
import { chosenInstall, planEvent, planRepair, planUndo } from '../../electron/core/server/repair/plan.js';
import { signInChanges } from '../../electron/core/server/repair/repair.js';
import { recordedServer, type RecordedServer } from '../support/recorded-server.js';

// What a repair plans from what inspect found (the way, and why; what it writes and keeps), how an
// interrupted run is read back from its journal, and what plex.tv's exchange reply must hold.

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

async function inspected(platform: string, tokenCheck: 'valid' | 'invalid' = 'invalid'): Promise<InspectReport> {
  const server = recordedServer(platform);
  servers.push(server);
  return inspectWith(server.shell, {
    plexTv: { checkToken: async () => ({ check: tokenCheck }) },
    identity: async () => {
      throw new Error('no tunnel in this test');
    },
    root: server.root,
  });
}

const NOW = new Date('2025-06-17T11:00:00Z');

describe('planning a repair', () => {
  it('a deb install: sign out, then claim, because the tunnel is its own 127.0.0.1; the certificate goes after a revoked sign-in', async () => {
    const plan = planRepair(chosenInstall(await inspected('debian')), { account: 'bob', now: NOW });
    expect(plan).toMatchObject({
      mode: 'signout',
      forced: false,
      account: 'bob',
      backup: '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Preferences.xml.reclaim-backup-20250617T110000Z',
      removes: ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome'],
      writes: [],
      certificate: { files: [expect.stringMatching(/Cache\/cert-v2\.p12$/), expect.stringMatching(/Cache\/certificate\.p12$/)] },
    });
    expect(plan.why).toMatch(/directly on the server/);
    expect(plan.steps.map((step) => step.step)).toEqual(['stop', 'backup', 'write', 'start', 'claim', 'verify']);
    expect(planEvent(plan)).toMatchObject({ event: 'plan', action: 'repair', mode: 'signout', account: 'bob', current: { accepted: false } });
  });

  it('a container: the offline claim, with the reason, and the Remote Access switch kept', async () => {
    const report = await inspected('unraid', 'valid');
    const plan = planRepair(chosenInstall(report), { now: NOW });
    expect(plan.mode).toBe('offline');
    expect(plan.why).toMatch(/container/);
    expect(plan.steps.map((step) => step.step)).toEqual(['claim', 'stop', 'backup', 'write', 'start', 'verify']);
    expect(plan.certificate).toBeUndefined();
    expect(plan.accountText).toMatch(/claim token/);
    // The person may force the other way; the plan says so.
    const forced = planRepair(chosenInstall(report), { mode: 'signout', now: NOW });
    expect(forced).toMatchObject({ mode: 'signout', forced: true });
    expect(forced.why).toMatch(/^You chose the sign-out-then-claim way/);
  });

  it('a FreeBSD jail: offline (the jail has an address of its own)', async () => {
    const report = await inspected('truenas-core');
    expect(planRepair(report.installs[0]!, { now: NOW })).toMatchObject({ mode: 'offline', why: expect.stringMatching(/jail/) });
  });

  it('undo puts back the newest backup, and refuses when there is none', async () => {
    const entry = chosenInstall(await inspected('debian'));
    const prefs = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Preferences.xml';
    const plan = planUndo(entry, [`${prefs}.reclaim-backup-20250101T000000Z`, `${prefs}.reclaim-backup-20250617T100000Z`], NOW);
    expect(plan).toMatchObject({ action: 'undo', restore: `${prefs}.reclaim-backup-20250617T100000Z`, backup: `${prefs}.reclaim-backup-20250617T110000Z` });
    expect(() => planUndo(entry, [], NOW)).toThrow(expect.objectContaining({ code: 'REPAIR_NOT_POSSIBLE', details: { reason: 'no-backup' } }));
  });

  it('refuses when it cannot tell which install to repair', async () => {
    const report = await inspected('docker-host');
    expect(() => chosenInstall({ ...report, chosen: null })).toThrow(expect.objectContaining({ code: 'REPAIR_NOT_POSSIBLE', details: { reason: 'no-install' } }));
  });
});

describe('what each way writes', () => {
  const signIn = { token: 'newServerToken123', username: 'bob', email: 'bob@example.com' };

  it('sign out removes only the sign-in keys that are there', () => {
    const changes = signInChanges('signout', new Map([['PlexOnlineToken', 'x'], ['PlexOnlineUsername', 'alice'], ['FriendlyName', 'n']]));
    expect([...changes]).toEqual([['PlexOnlineToken', null], ['PlexOnlineUsername', null]]);
  });

  it('offline writes the new sign-in, accepts the EULA and publishes only where the file says nothing', () => {
    expect(Object.fromEntries(signInChanges('offline', new Map([['PlexOnlineHome', '1'], ['PublishServerOnPlexOnlineKey', '0'], ['AcceptedEULA', '0']]), signIn))).toEqual({
      PlexOnlineToken: signIn.token, PlexOnlineUsername: 'bob', PlexOnlineMail: 'bob@example.com', PlexOnlineHome: null,
    });
    expect(Object.fromEntries(signInChanges('offline', new Map(), signIn))).toEqual({
      PlexOnlineToken: signIn.token, PlexOnlineUsername: 'bob', PlexOnlineMail: 'bob@example.com', AcceptedEULA: '1', PublishServerOnPlexOnlineKey: '1',
    });
  });
});

describe('the journal', () => {
  const journal: Journal = { run: 'abc', action: 'repair', mode: 'signout', state: 'written', began: '2025-06-17T11:00:00.000Z', wasRunning: true, backup: '/p.reclaim-backup-1', original: 'sha256sum:aa:10', written: 'sha256sum:bb:9' };

  it('reads back what it wrote, and nothing that is not one', () => {
    expect(parseJournal(formatJournal(journal).join('\n'))).toEqual(journal);
    expect(parseJournal('state=written\n')).toBeUndefined();
    expect(parseJournal('reclaim-journal 1\nrun=x\naction=repair\nstate=sideways\n')).toBeUndefined();
    expect(() => formatJournal({ ...journal, backup: 'a\nstate=verified' })).toThrow();
  });

  it('tells the next run what to do: the file as it was means nothing was written', () => {
    expect(recoveryFor({ ...journal, state: 'begun' }, 'sha256sum:aa:10')).toEqual({ kind: 'clear' });
    expect(recoveryFor({ ...journal, state: 'stopping', backup: undefined, original: undefined }, 'sha256sum:aa:10')).toEqual({ kind: 'start' });
    expect(recoveryFor({ ...journal, state: 'writing' }, 'sha256sum:aa:10')).toEqual({ kind: 'start' });
    expect(recoveryFor({ ...journal, state: 'writing' }, 'sha256sum:bb:9')).toEqual({ kind: 'decide', backup: '/p.reclaim-backup-1' });
    expect(recoveryFor({ ...journal, state: 'started' }, 'sha256sum:cc:12')).toEqual({ kind: 'decide', backup: '/p.reclaim-backup-1' });
    expect(recoveryFor({ ...journal, state: 'verified' }, 'sha256sum:cc:12')).toEqual({ kind: 'done' });
  });
});

describe('the exchange reply', () => {
  const reply = (status: number, body: string) => ({ status, contentType: 'application/xml', body });

  it('reads the XML plex.tv and pms-docker use, with entities decoded', () => {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<user id="1" authToken="tokenAAAAAAAAAAAAAAA">\n  <username>ben&amp;jerry</username>\n  <email>ben@example.com</email>\n  <authentication-token>tokenAAAAAAAAAAAAAAA</authentication-token>\n</user>\n';
    expect(readExchangeReply(reply(200, body))).toEqual({ token: 'tokenAAAAAAAAAAAAAAA', username: 'ben&jerry', email: 'ben@example.com' });
  });

  it('refuses an incomplete sign-in and a refused token, saying nothing was changed', () => {
    expect(() => readExchangeReply(reply(200, '<user><username>bob</username><authentication-token>tokenAAAAAAAAAAAAAAA</authentication-token></user>')))
      .toThrow(expect.objectContaining({ code: 'PLEX_TV_ERROR', message: expect.stringMatching(/Nothing on the server was changed/) }));
    expect(() => readExchangeReply(reply(401, '<errors><error>Invalid or expired claim token</error></errors>'))).toThrow(expect.objectContaining({ code: 'CLAIM_TOKEN_INVALID' }));
    expect(() => readExchangeReply(reply(200, '<user><username>bob\u0001</username><email>b@e</email><authentication-token>tokenAAAAAAAAAAAAAAA</authentication-token></user>'))).toThrow(expect.objectContaining({ code: 'PLEX_TV_ERROR' }));
  });
});
