import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReclaimError } from '../../electron/core/common/errors.js';
import type { ClaimSource } from '../../electron/core/plex/claim.js';
import type { ServerSignIn } from '../../electron/core/plex/plex-tv.js';
import type { PmsClient, PmsIdentity, PmsSignIn } from '../../electron/core/plex/pms.js';
import { inspectWith } from '../../electron/core/server/inspect.js';
import { Privilege } from '../../electron/core/server/privilege.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';
import { chosenInstall, planRepair, planText, planUndo, type RepairMode } from '../../electron/core/server/repair/plan.js';
import { editPlist, plistTypes, plistValues, readPlistDocument } from '../../electron/core/server/repair/plist-edit.js';
import { recoverInterrupted, type Recovered } from '../../electron/core/server/repair/recover.js';
import { repairSignIn, type RepairResult } from '../../electron/core/server/repair/repair.js';
import { RepairSession, type RepairNotice, type RepairStep } from '../../electron/core/server/repair/session.js';
import { undoRepair, type UndoResult } from '../../electron/core/server/repair/undo.js';
import { MAC_DOMAIN, MAC_STAND_INS, MacState } from '../support/mac-stand-ins.js';
import { FIXTURES, recordedServer, type RecordedServer, type ShellFlavour } from '../support/recorded-server.js';

// The repair of a Mac's Plex, end to end through the core (inspect, lock, plan, repair, undo,
// recovery), with the repair's real POSIX scripts run by dash and by BusyBox over the recorded
// macOS tree, and `defaults`, osascript, open, launchctl, pkill, ps and sudo played by the
// stand-ins of test/support/mac-stand-ins.ts. Plex itself (through the tunnel) and plex.tv are
// played here in memory. What this cannot show: how a real Mac's cfprefsd, TCC prompts and
// launchd sessions behave; that is verified by transcript only.

const ORIGINAL = readFileSync(path.join(FIXTURES, 'macos', 'domain.plist'), 'utf8');
const MACHINE = '8c7c4a3b5e6f708192a3b4c5d6e7f8091a2b3c4d';
const PREFERENCES_DIR = 'Users/alice/Library/Preferences';
const SIGN_IN = ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome'];
/** The token plex.tv gives the server for bob: it must never be on a command line. */
const NEW_TOKEN = 'ServerToken-for-bob-7Qz';

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

/** plex.tv as the repair meets it: alice's old sign-in revoked, bob signing in. */
class FakePlexTv {
  valid = new Set<string>(['bob-user-token']);
  exchangeFails = false;
  async checkToken(token: string): Promise<{ check: 'valid' | 'invalid'; username?: string }> {
    return this.valid.has(token) ? { check: 'valid', username: 'bob' } : { check: 'invalid' };
  }

  async claimToken(): Promise<string> {
    return 'claim-bobClaimToken01';
  }

  async exchangeClaimToken(claimToken: string, machineIdentifier: string): Promise<ServerSignIn> {
    if (this.exchangeFails || machineIdentifier !== MACHINE) throw new ReclaimError('CLAIM_TOKEN_INVALID', 'plex.tv refused the claim token.', 'Get a new one.', { status: 401, serverSaid: 'Invalid token' });
    expect(claimToken).toBe('claim-bobClaimToken01');
    this.valid.add(NEW_TOKEN);
    return { token: NEW_TOKEN, username: 'bob', email: 'bob@example.com' };
  }
}

/** Plex through the tunnel: answers while the stand-ins say it runs, claimed while its domain holds a token. */
class FakePms {
  constructor(private readonly mac: MacState, private readonly plexTv: FakePlexTv) {}

  private values(): Map<string, string> {
    return plistValues(readPlistDocument(this.mac.domain, 'the domain'));
  }

  async identity(): Promise<PmsIdentity> {
    if (!this.mac.running) throw new Error('connect ECONNREFUSED 127.0.0.1:32400');
    return { machineIdentifier: MACHINE, claimed: Boolean(this.values().get('PlexOnlineToken')), version: '1.41.6.9685' };
  }

  /** Plex redeems the claim and saves its new sign-in through cfprefsd, as it does. */
  async claim(claimToken: string): Promise<{ username?: string }> {
    expect(claimToken).toBe('claim-bobClaimToken01');
    this.plexTv.valid.add(NEW_TOKEN);
    const document = readPlistDocument(this.mac.domain, 'the domain');
    this.mac.domain = editPlist(document, new Map([['PlexOnlineToken', NEW_TOKEN], ['PlexOnlineUsername', 'bob'], ['PlexOnlineMail', 'bob@example.com']]));
    return { username: 'bob' };
  }

  async account(token?: string): Promise<PmsSignIn | 'needs-token'> {
    const values = this.values();
    if (!token || !values.get('PlexOnlineToken') || !this.plexTv.valid.has(token)) return 'needs-token';
    return { username: values.get('PlexOnlineUsername'), signInState: this.plexTv.valid.has(values.get('PlexOnlineToken')!) ? 'ok' : 'invalid' };
  }
}

interface Mac {
  server: RecordedServer;
  mac: MacState;
  plexTv: FakePlexTv;
  pms: FakePms;
  /** The connection is cut: every command fails from now on, as over a dead SSH session. */
  lost: boolean;
  shell: ServerShell;
}

function aMac(flavour: ShellFlavour, options: { sshUser?: 'root' | 'alice' } = {}): Mac {
  const root = options.sshUser !== 'alice';
  const server = recordedServer('macos', {
    flavour,
    scripts: MAC_STAND_INS,
    // A Mac has cksum (and shasum), not GNU sha256sum; BusyBox has no cksum, so it checks with its sha256sum.
    ...(flavour === 'dash' ? { withoutTools: ['sha256sum', 'md5sum'], extraTools: ['cksum'] } : {}),
    recording: { commands: { id: [{ args: '-u', stdout: root ? '0\n' : '501\n' }, { args: '-un', stdout: root ? 'root\n' : 'alice\n' }, { args: '-u alice', stdout: '501\n' }] } },
    files: { 'Users/alice/Library/Caches/PlexMediaServer/cert-v2.p12': 'certificate' },
  });
  servers.push(server);
  const mac = new MacState(server, ORIGINAL);
  const plexTv = new FakePlexTv();
  const pms = new FakePms(mac, plexTv);
  const state: Mac = {
    server, mac, plexTv, pms, lost: false,
    shell: (command, runOptions) => (state.lost ? Promise.reject(new Error('the SSH connection is gone')) : server.shell(command, runOptions)),
  };
  return state;
}

interface Run {
  steps: string[];
  notices: RepairNotice[];
  recovered?: Recovered;
  plan?: ReturnType<typeof planRepair>;
  result?: RepairResult | UndoResult;
  error?: unknown;
}

const bob = (mac: Mac): ClaimSource => ({ kind: 'account', userToken: 'bob-user-token', plexTv: mac.plexTv });

/** As openRepair does over SSH: inspect, lock, recover; then plan and repair (or undo). */
async function run(mac: Mac, what: { mode?: RepairMode; undo?: boolean; cutAfter?: RepairStep; onNotice?: (notice: RepairNotice) => void } = {}): Promise<Run> {
  const out: Run = { steps: [], notices: [] };
  const privilege = new Privilege(mac.shell);
  const root = mac.server.root;
  const inspect = () => inspectWith(mac.shell, { plexTv: mac.plexTv, identity: () => mac.pms.identity(), privilege, root });
  let session: RepairSession | undefined;
  try {
    session = await RepairSession.open(chosenInstall(await inspect()).install, {
      privilege,
      pms: mac.pms as unknown as PmsClient,
      plexTv: mac.plexTv,
      root,
      now: () => new Date('2025-06-17T11:00:00Z'),
      connectionLost: () => mac.lost,
      limits: { pollMs: 5, stopWaitMs: 1000, startWaitMs: 1000 },
      onStep: (step, state) => {
        out.steps.push(`${step} ${state}`);
        if (step === what.cutAfter && state === 'done') mac.lost = true;
      },
      onNotice: (notice) => {
        out.notices.push(notice);
        what.onNotice?.(notice);
      },
    });
    out.recovered = await recoverInterrupted(session);
    const entry = chosenInstall(await inspect());
    if (what.undo) {
      out.result = await undoRepair(session, planUndo(entry, session.opened.backups));
    } else {
      out.plan = planRepair(entry, { mode: what.mode, account: 'bob', now: new Date('2025-06-17T11:00:00Z') });
      out.result = await repairSignIn(session, out.plan, bob(mac));
    }
  } catch (error) {
    out.error = error;
  } finally {
    // As the CLI and the app close what openRepair opened (a no-op once the connection is gone).
    await session?.close();
  }
  return out;
}

/** The entries of the domain that are not the sign-in, as their exact text. */
function otherEntries(domain: string): string[] {
  const document = readPlistDocument(domain, 'the domain');
  return document.entries.filter((entry) => !SIGN_IN.includes(entry.key)).map((entry) => domain.slice(entry.start, entry.end));
}

function reclaimFiles(mac: Mac): string[] {
  return readdirSync(path.join(mac.server.root, PREFERENCES_DIR)).filter((name) => name.includes('reclaim'));
}

/** The lock left by a cut-off run, with the SSH session that held it gone. */
function sessionEnded(mac: Mac): void {
  const owner = path.join(mac.server.root, PREFERENCES_DIR, `${MAC_DOMAIN}.plist.reclaim-lock`, 'owner');
  writeFileSync(owner, readFileSync(owner, 'utf8').replace(/^session=.*$/m, 'session=4194000 12345'));
  mac.lost = false;
}

describe.each<ShellFlavour>(['dash', 'busybox'])('repairing a Mac (%s)', (flavour) => {
  it('offline: claimed at plex.tv first, then Plex quit, the domain exported, only the sign-in changed through defaults import, Plex reopened', async () => {
    const mac = aMac(flavour);
    const done = await run(mac, { mode: 'offline' });
    expect(done.error).toBeUndefined();
    expect(done.steps.filter((step) => step.endsWith('done'))).toEqual(['claim done', 'stop done', 'backup done', 'write done', 'start done', 'verify done']);
    expect(done.result).toMatchObject({ machineIdentifier: MACHINE, username: 'bob', certificates: ['/Users/alice/Library/Caches/PlexMediaServer/cert-v2.p12'] });

    const document = readPlistDocument(mac.mac.domain, 'the domain');
    expect(Object.fromEntries(plistValues(document))).toMatchObject({ PlexOnlineToken: NEW_TOKEN, PlexOnlineUsername: 'bob', PlexOnlineMail: 'bob@example.com', AcceptedEULA: '1', PublishServerOnPlexOnlineKey: '0' });
    expect(plistValues(document).has('PlexOnlineHome')).toBe(false);
    // Each value keeps its type: strings stay strings, the switches stay booleans (Remote Access off stays off).
    expect(Object.fromEntries(plistTypes(document))).toMatchObject({ PlexOnlineToken: 'string', PlexOnlineUsername: 'string', AcceptedEULA: 'boolean', PublishServerOnPlexOnlineKey: 'boolean', ManualPortMappingPort: 'integer', WebHooksEnabled: 'dict' });
    // Every other setting, byte for byte.
    expect(otherEntries(mac.mac.domain)).toEqual(otherEntries(ORIGINAL));

    // The backup: the domain as it was, as defaults export writes it, beside the plist.
    const backup = (done.result as RepairResult).backup;
    expect(backup).toBe(`/Users/alice/Library/Preferences/${MAC_DOMAIN}.plist.reclaim-backup-20250617T110000Z`);
    expect(readFileSync(path.join(mac.server.root, backup), 'utf8')).toBe(ORIGINAL);
    expect(reclaimFiles(mac)).toEqual([`${MAC_DOMAIN}.plist.reclaim-backup-20250617T110000Z`]);
    expect(readdirSync(path.join(mac.server.root, 'Users/alice/Library/Caches/PlexMediaServer'))).toEqual(['cert-v2.p12.reclaim-backup-20250617T110000Z']);

    // How Plex was quit and reopened: in alice's GUI session, as alice.
    const argv = mac.mac.argv;
    expect(argv).toContain('launchctl asuser 501 sudo -n -H -u alice osascript -e tell app "Plex Media Server" to quit');
    expect(argv).toContain('launchctl asuser 501 sudo -n -H -u alice open -a Plex Media Server');
    expect(argv).toMatch(/^defaults import com\.plexapp\.plexmediaserver \S*\/Users\/alice\/Library\/Preferences\/com\.plexapp\.plexmediaserver\.plist\.reclaim-new$/m);
    // Never the token on a command line (the stand-ins' argv, and every command Reclaim sent), never a whole-domain read.
    expect(argv).not.toContain(NEW_TOKEN);
    expect(argv).not.toContain('MacTokenValue0015');
    expect(mac.server.sent.join('\n')).not.toContain(NEW_TOKEN);
    expect(argv).not.toMatch(/^defaults write/m);
    expect(mac.mac.wholeDomainReads).toBe(false);
    expect(mac.mac.running).toBe(true);
  });

  it('sign out, then claim: the sign-in removed through defaults, Plex reopened and claimed through the tunnel; undo puts the domain back', async () => {
    const mac = aMac(flavour);
    const done = await run(mac, { mode: 'signout' });
    expect(done.error).toBeUndefined();
    expect(done.plan!.steps.map((step) => step.text).join('\n')).toMatch(/Quit Plex in alice's session[\s\S]*defaults export[\s\S]*launchctl asuser/);
    expect(planText(done.plan!)).toContain('Settings: macOS defaults domain com.plexapp.plexmediaserver of alice');
    expect(plistValues(readPlistDocument(mac.mac.domain, 'd')).get('PlexOnlineUsername')).toBe('bob');
    expect(otherEntries(mac.mac.domain)).toEqual(otherEntries(ORIGINAL));
    expect(mac.mac.argv).not.toContain(NEW_TOKEN);

    const undone = await run(mac, { undo: true });
    expect(undone.error).toBeUndefined();
    expect(mac.mac.domain).toBe(ORIGINAL);
    expect(undone.result).toMatchObject({ restored: `/Users/alice/Library/Preferences/${MAC_DOMAIN}.plist.reclaim-backup-20250617T110000Z` });
    expect(mac.mac.argv).toMatch(/^defaults import com\.plexapp\.plexmediaserver \S*reclaim-backup-20250617T110000Z$/m);
    expect(mac.mac.running).toBe(true);
    expect(reclaimFiles(mac).filter((name) => !name.includes('backup'))).toEqual([]);
  });

  it('signed in as the account that runs Plex: no sudo at all; if macOS will not let Reclaim open Plex, it asks the person to and waits', async () => {
    const mac = aMac(flavour, { sshUser: 'alice' });
    mac.mac.fault('open-fails', true);
    const done = await run(mac, { mode: 'offline', onNotice: (notice) => {
      // The person opens Plex on the Mac when asked.
      if (notice.event === 'reopen-plex') writeFileSync(path.join(mac.mac.dir, 'running'), readFileSync(path.join(mac.mac.dir, 'processes')));
    } });
    expect(done.error).toBeUndefined();
    expect(done.notices).toContainEqual({ event: 'reopen-plex', detail: expect.stringMatching(/^macOS did not let Reclaim open Plex Media Server \(LSOpenURLsWithRole\(\) failed.*Open it on the Mac now/) });
    expect(mac.mac.argv).not.toMatch(/sudo|launchctl/);
    expect(mac.mac.argv).toMatch(/^defaults import /m);
    expect(mac.mac.argv).toContain('osascript -e tell app "Plex Media Server" to quit');
    expect(mac.mac.argv).not.toContain(NEW_TOKEN);
    expect(plistValues(readPlistDocument(mac.mac.domain, 'd')).get('PlexOnlineUsername')).toBe('bob');
  });
});

describe('faults on a Mac', () => {
  it('osascript cannot quit Plex (no Automation permission): SIGTERM does, and the repair goes on', async () => {
    const mac = aMac('dash');
    mac.mac.fault('quit-fails', true);
    const done = await run(mac, { mode: 'offline' });
    expect(done.error).toBeUndefined();
    expect(mac.mac.argv).toContain('pkill -TERM ^Plex Media Serve(r)?$');
  });

  it('Plex will not quit at all: PMS_WOULD_NOT_STOP naming it, nothing changed, Plex left running', async () => {
    const mac = aMac('dash');
    mac.mac.fault('quit-fails', true);
    mac.mac.fault('term-ignored', true);
    const done = await run(mac, { mode: 'offline' });
    expect(done.error).toMatchObject({ code: 'PMS_WOULD_NOT_STOP', message: expect.stringContaining('Plex Media Server (pid 412)') });
    expect(done.notices).toContainEqual(expect.objectContaining({ event: 'forced-stop' }));
    expect(mac.mac.domain).toBe(ORIGINAL);
    expect(reclaimFiles(mac)).toEqual([]);
    expect(mac.mac.running).toBe(true);
  });

  it('plex.tv refuses the exchange: nothing on the Mac is touched', async () => {
    const mac = aMac('dash');
    mac.plexTv.exchangeFails = true;
    const done = await run(mac, { mode: 'offline' });
    expect(done.error).toMatchObject({ code: 'CLAIM_TOKEN_INVALID' });
    expect(done.steps).toEqual(['claim started']);
    expect(mac.mac.domain).toBe(ORIGINAL);
    expect(mac.mac.argv).not.toMatch(/osascript|defaults import/);
    expect(reclaimFiles(mac)).toEqual([]);
  });

  it('Plex will not reopen: the backup goes back through defaults import, and the person is told to open Plex on the Mac', async () => {
    const mac = aMac('dash');
    mac.mac.fault('open-fails', true);
    const done = await run(mac, { mode: 'offline' });
    expect(done.error).toMatchObject({ code: 'PMS_WOULD_NOT_START', fix: expect.stringContaining('Open Plex Media Server on the Mac') });
    expect((done.error as Error).message).toMatch(/put your Preferences back from \/Users\/alice\/Library\/Preferences\/com\.plexapp\.plexmediaserver\.plist\.reclaim-backup-/);
    expect(mac.mac.domain).toBe(ORIGINAL);
    expect((done.error as Error).message).toContain('LSOpenURLsWithRole() failed');

    // Once Plex can be opened again, the next run finishes what was left (Plex was not started).
    mac.mac.fault('open-fails', false);
    const next = await run(mac, { mode: 'offline' });
    expect(next.error).toBeUndefined();
    expect(plistValues(readPlistDocument(mac.mac.domain, 'd')).get('PlexOnlineUsername')).toBe('bob');
  });

  const cuts: Array<{ mode: RepairMode; after: RepairStep; recovered: 'rolled-back' | 'finished' }> = [
    { mode: 'signout', after: 'stop', recovered: 'rolled-back' },
    { mode: 'signout', after: 'backup', recovered: 'rolled-back' },
    { mode: 'signout', after: 'write', recovered: 'rolled-back' },
    { mode: 'signout', after: 'start', recovered: 'rolled-back' },
    { mode: 'signout', after: 'claim', recovered: 'finished' },
    { mode: 'offline', after: 'write', recovered: 'finished' },
    { mode: 'offline', after: 'verify', recovered: 'finished' },
  ];

  it.each(cuts)('$mode, connection cut after "$after": the next run says it $recovered it, then repairs', async ({ mode, after, recovered }) => {
    const mac = aMac('dash');
    const cut = await run(mac, { mode, cutAfter: after });
    expect(cut.error).toMatchObject({ code: 'REPAIR_INTERRUPTED', details: { step: after } });
    expect(otherEntries(mac.mac.domain)).toEqual(otherEntries(ORIGINAL));

    sessionEnded(mac);
    const next = await run(mac, { mode });
    expect(next.error).toBeUndefined();
    expect(next.recovered).toMatchObject({ outcome: recovered });
    expect(plistValues(readPlistDocument(mac.mac.domain, 'd')).get('PlexOnlineUsername')).toBe('bob');
    expect(otherEntries(mac.mac.domain)).toEqual(otherEntries(ORIGINAL));
    expect(mac.mac.running).toBe(true);
    expect(reclaimFiles(mac).filter((name) => !name.includes('backup'))).toEqual([]);
    expect(mac.mac.argv).not.toContain(NEW_TOKEN);
  });
});

describe('the domain as XML', () => {
  it('keeps a value\'s type, refuses to put text into a number, and adds missing switches as booleans', () => {
    const document = readPlistDocument(ORIGINAL, 'd');
    const edited = editPlist(document, new Map<string, string | null>([['PlexOnlineToken', 'a&b<c>'], ['PlexOnlineHome', null], ['AcceptedEULA', '1']]));
    expect(edited).toContain('<key>PlexOnlineToken</key>\n\t<string>a&amp;b&lt;c&gt;</string>');
    expect(plistValues(readPlistDocument(edited, 'd')).get('PlexOnlineToken')).toBe('a&b<c>');
    expect(edited).not.toContain('PlexOnlineHome');
    expect(() => editPlist(document, new Map([['ManualPortMappingPort', 'text']]))).toThrow(/integer/);
    const bare = readPlistDocument(ORIGINAL.replace(/\t<key>AcceptedEULA<\/key>\n\t<true\/>\n/, ''), 'd');
    expect(editPlist(bare, new Map([['AcceptedEULA', '1']]))).toMatch(/<key>WebHooksEnabled<\/key>[\s\S]*<\/dict>\n\t<key>AcceptedEULA<\/key>\n\t<true\/>\n<\/dict>\n<\/plist>\n$/);
    expect(() => readPlistDocument('<plist version="1.0">\n<dict/>\n</plist>\n', 'd')).toThrow(/empty/);
  });
});
