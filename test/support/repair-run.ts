// Running the core's repair against a test server with a Plex install (plex-host.ts), over a real
// SSH connection as the test user, the way the CLI and the app do: open (inspect, lock, recover),
// plan, then repair or undo. Tests hook the steps to play faults at exact moments.
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { PlexTvClient } from '../../electron/core/plex/plex-tv.js';
import type { ClaimSource } from '../../electron/core/plex/claim.js';
import { openRepair, type OpenedRepair, type OpenRepairOptions } from '../../electron/core/server/repair/open-repair.js';
import { planRepair, planUndo, type RepairChoices } from '../../electron/core/server/repair/plan.js';
import { repairSignIn, type RepairResult } from '../../electron/core/server/repair/repair.js';
import type { RepairNotice, RepairStep } from '../../electron/core/server/repair/session.js';
import { undoRepair, type UndoResult } from '../../electron/core/server/repair/undo.js';
import { connectRoute, type SshConnection } from '../../electron/core/ssh/connect.js';
import { startPlexHost, type PlexHost, type PlexHostOptions } from './plex-host.js';
import { ensureTestUser } from './test-user.js';

export interface RepairRun {
  connection: SshConnection;
  plexTv: PlexTvClient;
  steps: string[];
  notices: RepairNotice[];
  options: OpenRepairOptions;
  opened?: OpenedRepair;
  close(): Promise<void>;
}

export interface RunHooks {
  sudoPassword?: string;
  onStep?: (step: RepairStep, state: 'started' | 'done', run: RepairRun) => void | Promise<void>;
  limits?: OpenRepairOptions['limits'];
}

/** An SSH connection as the test user, with the plex.tv stand-in as plex.tv. */
export async function connectTo(host: PlexHost, hooks: RunHooks = {}): Promise<RepairRun> {
  const connection = await connectRoute(
    [{ label: 'plex-host', host: host.sshd.host, port: host.sshd.port, user: host.user.name, configIdentityFiles: [] }],
    { auth: { identityFile: host.key.privatePath }, prompter: {}, hostKeys: { trustFiles: [host.knownHosts], recordFile: host.knownHosts, acceptNew: false } },
  );
  let lost = false;
  void connection.closed.then(() => {
    lost = true;
  });
  connection.client.on('error', () => {});
  const headers = plexHeaders('reclaim-repair-test');
  const plexTv = new PlexTvClient(host.plexTv.url, headers);
  const run: RepairRun = {
    connection,
    plexTv,
    steps: [],
    notices: [],
    options: undefined as unknown as OpenRepairOptions,
    async close() {
      await run.opened?.close().catch(() => {});
      await plexTv.close();
      await connection.close();
    },
  };
  run.options = {
    headers,
    plexTv,
    sudoPassword: hooks.sudoPassword ?? host.user.password,
    connectionLost: () => lost,
    limits: { pollMs: 200, ...hooks.limits },
    onStep: async (step, state) => {
      run.steps.push(`${step} ${state}`);
      await hooks.onStep?.(step, state, run);
    },
    onNotice: (notice) => run.notices.push(notice),
  };
  return run;
}

export async function open(run: RepairRun): Promise<OpenedRepair> {
  run.opened = await openRepair(run.connection.client, run.options);
  return run.opened;
}

/** Open, plan and repair in one go, as `reclaim repair --yes` does. */
export async function repair(host: PlexHost, source: (run: RepairRun) => ClaimSource, hooks: RunHooks & { choices?: RepairChoices } = {}): Promise<{ run: RepairRun; result?: RepairResult; error?: unknown }> {
  const run = await connectTo(host, hooks);
  try {
    const opened = await open(run);
    const plan = planRepair(opened.entry, hooks.choices);
    return { run, result: await repairSignIn(opened.session, plan, source(run)) };
  } catch (error) {
    return { run, error };
  } finally {
    await run.close();
  }
}

export async function undo(host: PlexHost, hooks: RunHooks = {}): Promise<{ run: RepairRun; result?: UndoResult; error?: unknown }> {
  const run = await connectTo(host, hooks);
  try {
    const opened = await open(run);
    const plan = planUndo(opened.entry, opened.session.opened.backups);
    return { run, result: await undoRepair(opened.session, plan) };
  } catch (error) {
    return { run, error };
  } finally {
    await run.close();
  }
}

/** Signs in as `username` the way the PIN flow ends: with a token of the account. */
export function asAccount(host: PlexHost, username: string): (run: RepairRun) => ClaimSource {
  return (run) => ({ kind: 'account', userToken: host.plexTv.issueToken(username), plexTv: run.plexTv });
}

/**
 * A server signed in to alice whose sign-in plex.tv revoked (a password reset signed out every
 * device), restarted so its log shows the refusal; bob is another account. `original`: its
 * Preferences as PMS keeps them (it writes the same bytes back at each stop).
 */
export async function revokedServer(options: PlexHostOptions = {}): Promise<{ host: PlexHost; original: string }> {
  await ensureTestUser();
  const host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, ...options });
  host.plexTv.signOutEverywhere('alice');
  host.plexTv.addUser({ username: 'bob', email: 'bob@example.com' });
  await host.stopPms();
  await host.startPms();
  return { host, original: (await host.readPreferences())! };
}

/** Back to a running server with `original` Preferences and nothing of Reclaim's beside them. */
export async function resetServer(host: PlexHost, original: string): Promise<void> {
  await host.stopPms();
  await host.runAsRoot(`cd '${host.paths.pmsDir}' && rm -rf Preferences.xml.reclaim-*`);
  await host.writePreferences(original);
  await host.startPms();
}

/** Reclaim's working files beside the Preferences (temporary file, journal, lock): none after a run. */
export async function workingFiles(host: PlexHost): Promise<string[]> {
  return (await host.listDir(host.paths.pmsDir)).filter((name) => /reclaim-(new|journal|lock)/.test(name));
}
