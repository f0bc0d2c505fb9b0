import { isReclaimError, ReclaimError } from '../../common/errors.js';
import { claimServer, type ClaimSource } from '../../plex/claim.js';
import type { ServerSignIn } from '../../plex/plex-tv.js';
import type { PmsIdentity } from '../../plex/pms.js';
import { readLog, type LogFinding } from '../log-findings.js';
import { summarise } from '../preferences.js';
import { readInstall } from '../read-install.js';
import { logsFrom, powershellCommand, windowsLogScript } from '../windows.js';
import type { Journal } from './journal.js';
import type { RepairMode, RepairPlan } from './plan.js';
import type { PreferencesChanges } from './preferences-edit.js';
import { backupStamp } from './remote-file.js';
import type { RepairSession } from './session.js';

// The repair itself, Plex's "manual" claim done for the person (plex-repair.md §4, §6), one of two
// ways:
// - sign out, then claim: stop Plex, back up, remove the PlexOnline* keys, start Plex, claim it
//   through the tunnel as `claim` does;
// - offline claim: first exchange a claim token at plex.tv from this computer with the server's
//   ProcessedMachineIdentifier (a refusal there changes nothing), then stop, back up, write the
//   new sign-in, start.
// Then check the result. Any failure after Plex was stopped puts the backup back and starts Plex.

export interface RepairResult {
  machineIdentifier: string;
  username?: string;
  backup: string;
  /** Certificates set aside so Plex fetches new ones. */
  certificates: string[];
  /** What Plex's log says since the new start that is worth knowing (not a refused sign-in). */
  warnings: LogFinding[];
}

export async function repairSignIn(session: RepairSession, plan: RepairPlan, source: ClaimSource): Promise<RepairResult> {
  const { files } = session;
  let signIn: ServerSignIn | undefined;
  if (plan.mode === 'offline') {
    signIn = await session.step('claim', async () => {
      const claimToken = source.kind === 'token' ? source.claimToken.trim() : await source.plexTv.claimToken(source.userToken);
      return session.context.plexTv.exchangeClaimToken(claimToken, plan.machineIdentifier);
    });
  }
  const wasRunning = (await session.running()).length > 0;
  let journal: Journal = { ...session.journal('repair', plan.mode, wasRunning), state: 'stopping' };
  await files.writeJournal(journal);
  let backup = plan.backup;
  const certificates: string[] = [];
  try {
    await session.step('stop', () => session.stopPlex());
    journal = { ...journal, state: 'stopped' };
    await files.writeJournal(journal);

    const snapshot = await session.step('backup', () => files.snapshot({ backup: plan.backup, journal }));
    backup = snapshot.backup!;
    journal = { ...journal, state: 'backed-up', backup, original: snapshot.fingerprint };
    session.notice({ event: 'backup', path: backup });

    const changes = signInChangesFor(files.values(snapshot), plan, signIn);
    await session.step('write', async () => {
      journal = { ...journal, state: 'written', written: await files.writeChanges(changes, snapshot, journal) };
      if (plan.certificate) {
        certificates.push(...await files.setAsideCertificates(backupStamp(session.now)));
        if (certificates.length) session.notice({ event: 'certificate', paths: certificates });
      }
    });

    await session.step('start', () => session.startPlex());
    journal = { ...journal, state: 'started' };
    await files.writeJournal(journal);

    let username = signIn?.username ?? plan.account;
    if (plan.mode === 'signout') {
      const claimed = await session.step('claim', () => claimServer({ pms: session.context.pms, source }));
      if (claimed.outcome === 'claimed') username = claimed.username ?? username;
    }
    const verified = await session.step('verify', () => verifySignIn(session, plan.machineIdentifier, {
      token: source.kind === 'account' ? source.userToken : signIn?.token,
      username,
    }));
    journal = { ...journal, state: 'verified' };
    await files.close();
    return { machineIdentifier: plan.machineIdentifier, username: verified.username ?? username, backup, certificates, warnings: verified.warnings };
  } catch (error) {
    return session.failAfterStop(error, journal);
  }
}

/** The sign-in changed the chosen way, after checking the settings are still this server's. */
function signInChangesFor(values: Map<string, string>, plan: RepairPlan, signIn: ServerSignIn | undefined): PreferencesChanges {
  const summary = summarise(values, plan.preferences);
  if (summary.machineIdentifier !== plan.machineIdentifier) {
    throw new ReclaimError(
      'REPAIR_WRITE_FAILED',
      `Plex's Preferences at ${plan.preferences} now belong to machine ${summary.machineIdentifier}, not ${plan.machineIdentifier} as when Reclaim looked at them, so Reclaim did not change them.`,
      'Run the repair again, so that it starts from the Preferences as they are now.',
      { step: 'write', reason: 'changed' },
    );
  }
  return signInChanges(plan.mode, values, signIn);
}

export function signInChanges(mode: RepairMode, values: ReadonlyMap<string, string>, signIn?: ServerSignIn): PreferencesChanges {
  const changes = new Map<string, string | null>([
    ['PlexOnlineToken', null],
    ['PlexOnlineUsername', null],
    ['PlexOnlineMail', null],
    ['PlexOnlineHome', null],
  ]);
  if (mode === 'offline') {
    if (!signIn) throw new Error('the offline claim needs the sign-in from plex.tv');
    changes.set('PlexOnlineToken', signIn.token);
    changes.set('PlexOnlineUsername', signIn.username);
    changes.set('PlexOnlineMail', signIn.email);
    if (!values.has('AcceptedEULA')) changes.set('AcceptedEULA', '1');
    // The person's Remote Access switch: written only when the file has none (plex-repair.md §6.6).
    if (!values.has('PublishServerOnPlexOnlineKey')) changes.set('PublishServerOnPlexOnlineKey', '1');
  }
  for (const [key, value] of [...changes]) if (value === null && !values.has(key)) changes.delete(key);
  return changes;
}

/**
 * The server after the repair: this machine answers, says it is claimed, says it is signed in to
 * the account (when Reclaim holds a token to ask with), and its log since the new start has no
 * refusal from plex.tv. Other log findings come back as warnings.
 */
export async function verifySignIn(
  session: RepairSession,
  machineIdentifier: string,
  expect: { token?: string; username?: string },
): Promise<{ username?: string; warnings: LogFinding[] }> {
  const { pms } = session.context;
  const identity = await identityOnceStarted(() => pms.identity());
  const notVerified = (reason: 'unclaimed' | 'other-server' | 'signed-out' | 'refused-by-plex-tv', message: string) => new ReclaimError(
    'REPAIR_NOT_VERIFIED',
    message,
    'Run "reclaim inspect" (or Inspect in the app) to see what the server holds now, and Diagnose to check that it reaches plex.tv.',
    { machineIdentifier: identity.machineIdentifier, reason },
  );
  if (identity.machineIdentifier !== machineIdentifier) {
    throw notVerified('other-server', `The Plex answering through the tunnel is machine ${identity.machineIdentifier}, not the repaired one (${machineIdentifier}).`);
  }
  if (!identity.claimed) throw notVerified('unclaimed', 'Plex Media Server came back, but says it is not claimed.');
  let username = expect.username;
  if (expect.token) {
    const account = await pms.account(expect.token);
    if (account === 'needs-token') throw notVerified('signed-out', 'Plex Media Server came back claimed, but not by the account the repair was for.');
    if (account.signInState && account.signInState !== 'ok') {
      throw notVerified('signed-out', `Plex Media Server came back claimed, but says its sign-in is "${account.signInState}", not "ok".`);
    }
    username = account.username || username;
  }
  const findings = await logSinceStart(session);
  const refused = findings.find((finding) => finding.id === 'log-sign-in-rejected');
  if (refused) throw notVerified('refused-by-plex-tv', `Plex's log shows plex.tv refusing the server's sign-in since it started again: ${refused.line}`);
  return { username, warnings: findings.filter((finding) => finding.id !== 'log-startup-maintenance') };
}

/** /identity, allowing a server that is still busy with its startup tasks a little time. */
async function identityOnceStarted(identity: () => Promise<PmsIdentity>): Promise<PmsIdentity> {
  for (let tries = 0; ; tries++) {
    try {
      return await identity();
    } catch (error) {
      if (!isReclaimError(error) || error.code !== 'PMS_STARTING' || tries >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** Log findings from Plex's latest start on (the lines before it are the old sign-in's). */
async function logSinceStart(session: RepairSession): Promise<LogFinding[]> {
  const { install, context } = session;
  const files = install.platform === 'windows'
    ? logsFrom((await context.privilege.shell(powershellCommand(windowsLogScript(install.logDir)), { timeoutMs: 60_000, maxOutputBytes: 1024 * 1024 })).stdout)
    // On a Mac the account that runs Plex reads its own log; elsewhere the log may be root's to read.
    : await readInstall(install, context.privilege, { root: context.root, asRoot: install.platform !== 'macos' });
  if (!files.log) return [];
  const lines = files.log.split('\n');
  let lastBanner = -1;
  lines.forEach((line, index) => {
    if (/ - Plex Media Server v\S+/.test(line)) lastBanner = index;
  });
  const current = lastBanner < 0 ? files.log : lines.slice(lastBanner).join('\n');
  return readLog(current, files.now).findings;
}
