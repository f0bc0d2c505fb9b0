import { ReclaimError } from '../../common/errors.js';
import type { InspectReport, InstallReport } from '../inspect-report.js';
import { serviceLabel, type PlexInstall } from '../install.js';
import { macHome, macPlistPath } from './defaults-store.js';
import { registryBackupPath, registryBase } from './registry-store.js';
import { backupPathFor, backupStamp, journalPathFor } from './remote-file.js';
import type { RepairStep } from './session.js';

// What a repair (or an undo) will do, said before anything changes: which install, which file,
// where the backup goes, which account the server will belong to, which of the two ways and why,
// and each step. The person confirms this plan; the run then does exactly it.

export type RepairMode = 'signout' | 'offline';

/** The sign-in keys a repair touches; every other setting keeps its exact bytes. */
export const SIGN_IN_KEYS_REMOVED = ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome'] as const;

export interface PlannedStep {
  step: RepairStep;
  text: string;
}

export interface RepairPlan {
  action: 'repair';
  install: PlexInstall;
  preferences: string;
  machineIdentifier: string;
  mode: RepairMode;
  /** Why this way, in words. */
  why: string;
  forced: boolean;
  /** The Plex account the server will belong to, when known before the claim. */
  account?: string;
  accountText: string;
  /** Who the server is signed in as now, and whether plex.tv still accepts it. */
  current: { username?: string; accepted: boolean | null };
  backup: string;
  journal: string;
  /** What holds the settings, in words. */
  store: string;
  removes: string[];
  writes: string[];
  /** Settings the repair leaves alone on purpose, in words. */
  keeps: string[];
  /** The cached certificate set aside after a password reset (plex-repair.md §6.7). */
  certificate?: { files: string[]; why: string };
  steps: PlannedStep[];
  notes: string[];
}

export interface UndoPlan {
  action: 'undo';
  install: PlexInstall;
  preferences: string;
  /** The backup put back: the newest Reclaim made. */
  restore: string;
  /** Where the Preferences as they are now are kept first. */
  backup: string;
  journal: string;
  steps: PlannedStep[];
  notes: string[];
}

export interface RepairChoices {
  /** The account's name, when the person signed in with Plex (not with a pasted claim token). */
  account?: string;
  mode?: RepairMode;
  /** Set the server's cached certificate aside; default: when plex.tv refused its sign-in. */
  renewCertificate?: boolean;
  now?: Date;
}

/** Where an install's settings are, where their backups and journal go, and how the steps work there, in words. */
export interface SettingsPlace {
  /** The file, plist or registry key the plan names. */
  path: string;
  /** In words: what holds the settings and how Reclaim changes them. */
  store: string;
  backupFor(stamp: string): string;
  journal: string;
  stop: string;
  backupText(backup: string): string;
  scope: string;
  start: string;
  certificates: string[];
}

export function settingsPlace(install: PlexInstall): SettingsPlace {
  const location = install.preferences;
  const service = serviceLabel(install.service);
  if (location.kind === 'defaults') {
    const plist = macPlistPath(install);
    const caches = `${macHome(install)}/Library/Caches/PlexMediaServer`;
    return {
      path: plist,
      store: `macOS defaults domain ${location.domain} of ${location.user}, changed only with the defaults command (never the plist file itself)`,
      backupFor: (stamp) => backupPathFor(plist, stamp),
      journal: journalPathFor(plist),
      stop: `Quit Plex in ${location.user}'s session (osascript: tell app "Plex Media Server" to quit; SIGTERM if it will not quit) and check that it really stopped`,
      backupText: (backup) => `Back up the settings with defaults export to ${backup}`,
      scope: 'through defaults (export, change those keys only, import; each value keeps its type, and the new token is never in a command line); no other setting changes',
      start: `Open Plex in ${location.user}'s session (launchctl asuser, open -a "Plex Media Server") and wait until it answers`,
      certificates: [`${caches}/cert-v2.p12`, `${caches}/certificate.p12`],
    };
  }
  if (location.kind === 'registry') {
    return {
      path: location.key,
      store: `the Windows registry key ${location.key}`,
      backupFor: (stamp) => registryBackupPath(install, stamp),
      journal: `${registryBase(install)}.reclaim-journal`,
      stop: 'Stop Plex (first a service that wraps it, if there is one; then taskkill /im "Plex Media Server.exe", and taskkill /f /t only if it will not close) and check that it really stopped',
      backupText: (backup) => `Back up the registry key with reg export to ${backup}`,
      scope: 'value by value, each keeping its registry type, the new token never in a command line; no other value changes',
      start: 'Start Plex so that it outlives the SSH session (its service, or a scheduled task in your desktop session, or WMI) and wait until it answers',
      certificates: [`${install.dataDir}\\Cache\\cert-v2.p12`, `${install.dataDir}\\Cache\\certificate.p12`],
    };
  }
  return {
    path: location.path,
    store: `the file ${location.path}`,
    backupFor: (stamp) => backupPathFor(location.path, stamp),
    journal: journalPathFor(location.path),
    stop: `Stop Plex (${service}) and check that it really stopped`,
    backupText: (backup) => `Back up the Preferences to ${backup} (same owner and mode)`,
    scope: 'nothing else in the file changes',
    start: 'Start Plex and wait until it answers',
    certificates: [`${install.dataDir}/Cache/cert-v2.p12`, `${install.dataDir}/Cache/certificate.p12`],
  };
}

/** The install the repair is about: the one answering through the tunnel, as inspect chose it. */
export function chosenInstall(report: InspectReport): InstallReport {
  const entry = report.chosen === null ? undefined : report.installs[report.chosen];
  if (!entry) {
    throw new ReclaimError(
      'REPAIR_NOT_POSSIBLE',
      `Reclaim cannot tell which Plex install to repair: ${report.choice}`,
      'Start Plex (so Reclaim can see which install answers through the tunnel), or stop the installs you do not use, then try again.',
      { reason: 'no-install' },
    );
  }
  if (!entry.preferences || entry.preferencesProblem) {
    const problem = entry.preferencesProblem;
    throw new ReclaimError(
      'PLEX_PREFERENCES_UNREADABLE',
      problem?.message ?? `Reclaim could not read Plex's Preferences of ${entry.install.description}.`,
      problem?.fix ?? 'Check that Plex has been started once with this data folder. Never delete or recreate the file: that gives the server a new identity.',
      { where: entry.install.preferences.kind === 'file' ? entry.install.preferences.path : entry.install.description },
    );
  }
  if (entry.install.container?.kind === 'other' && entry.install.files.via === 'container') {
    throw new ReclaimError(
      'REPAIR_NOT_POSSIBLE',
      `Plex's files are inside the container "${entry.install.container.name}", and Reclaim knows no way to stop Plex there but stopping the whole container, which would take the files away.`,
      'Give the container a /config volume (which also keeps its data when it is recreated), or stop Plex inside it yourself, then try again.',
      { reason: 'files-inside-stopped-container' },
    );
  }
  return entry;
}

/** The way that fits the install, and why (the person may choose the other). */
export function chooseMode(entry: InstallReport): { mode: RepairMode; why: string } {
  const { install } = entry;
  if (install.container || install.platform === 'container') {
    return { mode: 'offline', why: 'Plex runs in a container: requests through the tunnel may reach it from the container network (Docker bridge networking) rather than from its own 127.0.0.1, and Plex then does not take them as local. The offline claim does not need that.' };
  }
  if (install.jail) {
    return { mode: 'offline', why: 'Plex runs in a FreeBSD jail with an address of its own, so the tunnel to the server\'s 127.0.0.1 may not reach it as local. The offline claim does not need that.' };
  }
  if (entry.answersTunnel === false) {
    return { mode: 'offline', why: 'The Plex answering through the tunnel is not this install, so it cannot be claimed through the tunnel. The offline claim does not need that.' };
  }
  return { mode: 'signout', why: 'Plex runs directly on the server, so requests through the tunnel come from its own 127.0.0.1 and Plex takes them as local: it can be signed out and then claimed the usual way.' };
}

export function planRepair(entry: InstallReport, choices: RepairChoices = {}): RepairPlan {
  const { install } = entry;
  const preferences = entry.preferences!;
  const place = settingsPlace(install);
  const path = place.path;
  const chosen = chooseMode(entry);
  const mode = choices.mode ?? chosen.mode;
  const forced = choices.mode !== undefined && choices.mode !== chosen.mode;
  const why = forced
    ? `You chose the ${mode === 'signout' ? 'sign-out-then-claim' : 'offline'} way (Reclaim would have chosen the other: ${chosen.why})`
    : chosen.why;
  const accountText = choices.account
    ? `${choices.account} (the account you signed in with)`
    : 'the Plex account your claim token belongs to';
  const revoked = entry.signIn.accepted === false || entry.log.findings.some((finding) => finding.id === 'log-sign-in-rejected' && !finding.beforeLastStart);
  const renew = choices.renewCertificate ?? revoked;
  const keeps: string[] = [];
  if (preferences.publishServer !== undefined && mode === 'offline') {
    keeps.push(`PublishServerOnPlexOnlineKey="${preferences.publishServer}" (Remote Access: your setting is kept)`);
  }
  const writes = mode === 'offline'
    ? ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', ...(preferences.acceptedEula === undefined ? ['AcceptedEULA="1"'] : []), ...(preferences.publishServer === undefined ? ['PublishServerOnPlexOnlineKey="1"'] : [])]
    : [];
  const stamp = backupStamp(choices.now ?? new Date());
  const backup = place.backupFor(stamp);
  const running = install.running !== false;
  const certificate = renew
    ? { files: place.certificates, why: 'plex.tv refused the server\'s old sign-in (as after a password reset), so its cached certificate is set aside and Plex fetches a new one. Reclaim does this once per repair: each new certificate counts against a rate limit.' }
    : undefined;
  const steps: PlannedStep[] = [
    ...(mode === 'offline' ? [{ step: 'claim' as const, text: `Claim the server at plex.tv from this computer, as Plex itself would (machine ${preferences.machineIdentifier}), before anything on the server changes` }] : []),
    { step: 'stop', text: running ? place.stop : 'Check that Plex is not running' },
    { step: 'backup', text: place.backupText(backup) },
    {
      step: 'write',
      text: mode === 'signout'
        ? `Remove ${SIGN_IN_KEYS_REMOVED.join(', ')}; ${place.scope}`
        : `Write the new sign-in (${writes.join(', ')}) and remove PlexOnlineHome; ${place.scope}${certificate ? '; set the cached certificate aside' : ''}`,
    },
    { step: 'start', text: place.start },
    ...(mode === 'signout' ? [{ step: 'claim' as const, text: 'Claim the server through the tunnel for your account' }] : []),
    { step: 'verify', text: 'Check that Plex says it is claimed and signed in, and that its log shows no new errors from plex.tv' },
  ];
  if (mode === 'signout' && certificate) steps.find((step) => step.step === 'write')!.text += '; set the cached certificate aside';
  const notes = [...install.notes];
  if (entry.signIn.accepted === true) notes.push(`plex.tv still accepts the server's current sign-in${entry.signIn.username ? ` (${entry.signIn.username})` : ''}: the repair moves the server to ${choices.account ?? 'the claim token\'s account'}.`);
  if (install.container) notes.push('Reclaim works quickly while Plex is stopped, in case a health check restarts the container.');
  if (!install.service.stop.length) notes.push(`Reclaim knows no command to stop or start Plex here (${install.service.manager}): stop it yourself before, and start it when Reclaim asks.`);
  return {
    action: 'repair',
    install,
    preferences: path,
    machineIdentifier: preferences.machineIdentifier,
    mode,
    why,
    forced,
    account: choices.account,
    accountText,
    current: { username: entry.signIn.username, accepted: entry.signIn.accepted },
    backup,
    journal: place.journal,
    store: place.store,
    removes: [...SIGN_IN_KEYS_REMOVED],
    writes,
    keeps,
    certificate,
    steps,
    notes,
  };
}

export function planUndo(entry: InstallReport, backups: string[], now = new Date()): UndoPlan {
  const { install } = entry;
  const place = settingsPlace(install);
  const path = place.path;
  const restore = backups.at(-1);
  if (!restore) {
    throw new ReclaimError(
      'REPAIR_NOT_POSSIBLE',
      `There is no backup Reclaim made beside ${path}, so there is nothing to undo.`,
      'Nothing was changed. Undo puts back the newest backup a repair made (named …reclaim-backup-<time>).',
      { reason: 'no-backup' },
    );
  }
  const backup = place.backupFor(backupStamp(now));
  const restoreHow = install.preferences.kind === 'defaults' ? ' (defaults import)' : install.preferences.kind === 'registry' ? ' (reg import; values the backup does not hold are removed)' : '';
  return {
    action: 'undo',
    install,
    preferences: path,
    restore,
    backup,
    journal: place.journal,
    steps: [
      { step: 'stop', text: place.stop },
      { step: 'backup', text: `Keep the settings as they are now in ${backup}` },
      { step: 'write', text: `Put back ${restore}${restoreHow}` },
      { step: 'start', text: place.start },
      { step: 'verify', text: 'Check that Plex answers as the same server' },
    ],
    notes: install.notes,
  };
}

/** The plan as the `--json` "plan" event. */
export function planEvent(plan: RepairPlan | UndoPlan): Record<string, unknown> {
  const common = {
    event: 'plan',
    action: plan.action,
    install: plan.install.description,
    platform: plan.install.platform,
    preferences: plan.preferences,
    service: serviceLabel(plan.install.service),
    backup: plan.backup,
    journal: plan.journal,
    steps: plan.steps,
    notes: plan.notes,
  };
  if (plan.action === 'undo') return { ...common, restore: plan.restore };
  return {
    ...common,
    machineIdentifier: plan.machineIdentifier,
    mode: plan.mode,
    why: plan.why,
    account: plan.account ?? null,
    accountText: plan.accountText,
    current: { username: plan.current.username ?? null, accepted: plan.current.accepted },
    store: plan.store,
    removes: plan.removes,
    writes: plan.writes,
    keeps: plan.keeps,
    certificate: plan.certificate ?? null,
  };
}

/** The plan in words, for the terminal. */
export function planText(plan: RepairPlan | UndoPlan): string {
  const lines: string[] = [];
  if (plan.action === 'undo') {
    lines.push(`Undo the last repair of ${plan.install.description}:`, `  Preferences: ${plan.preferences}`, `  Put back: ${plan.restore}`);
  } else {
    lines.push(
      `Repair the Plex sign-in of ${plan.install.description}:`,
      `  Settings: ${plan.store} (machine ${plan.machineIdentifier})`,
      `  Signed in now as: ${plan.current.username ?? 'nobody'}${plan.current.accepted === false ? ' (plex.tv no longer accepts it)' : plan.current.accepted === true ? ' (plex.tv accepts it)' : ''}`,
      `  Will belong to: ${plan.accountText}`,
      `  Way: ${plan.mode === 'signout' ? 'sign out, then claim through the tunnel' : 'offline claim'}. ${plan.why}`,
    );
    for (const keep of plan.keeps) lines.push(`  Kept: ${keep}`);
    if (plan.certificate) lines.push(`  Certificate: ${plan.certificate.why}`);
  }
  lines.push(`  Backup: ${plan.backup}`, 'Steps:');
  plan.steps.forEach((step, index) => lines.push(`  ${index + 1}. ${step.text}`));
  for (const note of plan.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}
