import type ssh2 from 'ssh2';
import { asReclaimError, ReclaimError } from '../common/errors.js';
import { LOOPBACK } from '../common/loopback.js';
import type { HostPort } from '../common/target.js';
import { PmsClient, type PmsIdentity } from '../plex/pms.js';
import { ForwardListener } from '../tunnel/forward-listener.js';
import { DEFAULT_REMOTE } from '../tunnel/tunnel.js';
import { chooseInstall, startingNotice } from './choose-install.js';
import { detectInstalls, installKey, whyRootWouldSeeMore } from './detect.js';
import { factsFrom, type ServerFacts } from './facts.js';
import type { InspectReport, InstallReport, Notice, ProblemFacts, TunnelIdentity } from './inspect-report.js';
import type { PlexInstall } from './install.js';
import { readLog } from './log-findings.js';
import type { PreferencesSummary } from './preferences.js';
import { Privilege, type SudoPassword } from './privilege.js';
import { PROBE, probeScript } from './probe-script.js';
import { readInstall, type InstallFiles } from './read-install.js';
import { readRecords } from './records.js';
import { commandFailed, sshShell, type ServerShell } from './server-shell.js';
import { checkServerSignIn, type TokenChecker } from './sign-in-check.js';
import { detectWindows, logsFrom, powershellCommand, windowsLogScript, windowsProbeScript } from './windows.js';

// `inspect`: every Plex install on the server, its Preferences and sign-in, what its log says,
// and which one answers through the tunnel, over the SSH session Reclaim already has.

export interface InspectOptions {
  /** Checks the server's own sign-in with plex.tv, from this computer. */
  plexTv: TokenChecker;
  /** What the Plex answering through the tunnel reports (/identity). */
  identity: () => Promise<PmsIdentity>;
  /** The sudo password, or how to ask for it when root is needed. */
  sudoPassword?: SudoPassword;
  /** Root as a caller already has it (a repair inspects first): its password is then asked once. */
  privilege?: Privilege;
  /** Where the server's filesystem starts for the scripts: '' (a real server) or a test's recorded tree. */
  root?: string;
}

const PROBE_TIMEOUT_MS = 90_000;
const PROBE_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Inspects over a live SSH session; /identity is read through a forward of its own on it. */
export function inspectServer(
  client: ssh2.Client,
  options: Omit<InspectOptions, 'identity'> & { headers: Record<string, string>; remote?: HostPort; identity?: InspectOptions['identity'] },
): Promise<InspectReport> {
  const identity = options.identity ?? (() => identityThroughSession(client, options.remote ?? DEFAULT_REMOTE, options.headers));
  return inspectWith(sshShell(client), { ...options, identity });
}

export async function inspectWith(shell: ServerShell, options: InspectOptions): Promise<InspectReport> {
  const identity = options.identity().then(
    (answer): TunnelIdentity => ({ machineIdentifier: answer.machineIdentifier, version: answer.version, claimed: answer.claimed }),
    (error: unknown) => asReclaimError(error),
  );
  const found = (await isWindows(shell)) ? await inspectWindows(shell) : await inspectPosix(shell, options);
  const tunnel = await identity;
  const installs = await Promise.all(found.installs.map(async ({ install, files }) => {
    const preferences = files.preferences instanceof ReclaimError ? undefined : files.preferences;
    const log = files.log === undefined ? undefined : readLog(files.log, files.now, preferences?.token ? [preferences.token.reveal()] : []);
    const report: InstallReport = {
      install,
      preferences: preferences && withoutToken(preferences),
      preferencesProblem: files.preferences instanceof ReclaimError ? problemFacts(files.preferences) : undefined,
      answersTunnel: preferences && 'machineIdentifier' in tunnel ? preferences.machineIdentifier === tunnel.machineIdentifier : null,
      signIn: await checkServerSignIn(preferences, options.plexTv),
      log: { findings: log?.findings ?? [], lastStart: log?.lastStart, problem: files.logProblem },
      readAsRoot: files.asRoot,
    };
    return report;
  }));
  const { chosen, choice } = chooseInstall(installs, tunnel);
  return {
    installs,
    chosen,
    choice,
    tunnel: 'machineIdentifier' in tunnel ? tunnel : { problem: problemFacts(tunnel) },
    starting: startingNotice(chosen === null ? undefined : installs[chosen], tunnel),
    notes: found.notes,
  };
}

interface Found {
  installs: Array<{ install: PlexInstall; files: InstallFiles }>;
  notes: Notice[];
}

/** Windows OpenSSH answers `uname` with "not recognized"; Git's or MSYS's uname names Windows. */
async function isWindows(shell: ServerShell): Promise<boolean> {
  let result;
  try {
    result = await shell('uname -s', { timeoutMs: 15_000, maxOutputBytes: 4096 });
  } catch (error) {
    throw commandFailed('find out what system the server runs', error);
  }
  const name = result.stdout.trim();
  return result.exitCode !== 0 || !/^[A-Za-z][\w.-]*$/.test(name) || /MINGW|MSYS|CYGWIN|Windows/i.test(name);
}

async function inspectPosix(shell: ServerShell, options: InspectOptions): Promise<Found> {
  const privilege = options.privilege ?? new Privilege(shell, options.sudoPassword);
  const script = probeScript(options.root);
  const what = 'look for Plex on the server';
  const limits = { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: PROBE_OUTPUT_BYTES };
  const asUser = factsFrom(readRecords((await privilege.asUser(script, what, limits)).stdout, PROBE, what));
  const notes: Notice[] = [];
  let installs = detectInstalls(asUser).map((install) => ({ install, asRoot: asUser.account.uid === 0 }));
  const reason = asUser.account.uid === 0 ? undefined : whyRootWouldSeeMore(asUser);
  let refusal: ReclaimError | undefined;
  if (reason) {
    try {
      const asRoot: ServerFacts = factsFrom(readRecords((await privilege.asRoot(script, what, reason, limits)).stdout, PROBE, what));
      installs = mergeInstalls(installs.map(({ install }) => install), detectInstalls(asRoot));
    } catch (error) {
      if (!(error instanceof ReclaimError)) throw error;
      refusal = error;
      notes.push({ title: 'Reclaim could not look everywhere', detail: `Root was needed to ${reason}: ${error.message}`, fix: error.fix });
    }
  }
  if (installs.length === 0) throw refusal ?? notFound(asUser);
  const read = await Promise.all(installs.map(async ({ install, asRoot }) => ({
    install,
    files: await readInstall(install, privilege, { root: options.root, asRoot }),
  })));
  return { installs: read, notes };
}

/** What root saw replaces what the SSH user saw of the same install; root's finds keep their order. */
function mergeInstalls(seen: PlexInstall[], seenAsRoot: PlexInstall[]): Array<{ install: PlexInstall; asRoot: boolean }> {
  const rootKeys = new Set(seenAsRoot.map(installKey));
  return [
    ...seenAsRoot.map((install) => ({ install, asRoot: true })),
    ...seen.filter((install) => !rootKeys.has(installKey(install))).map((install) => ({ install, asRoot: false })),
  ];
}

async function inspectWindows(shell: ServerShell): Promise<Found> {
  const what = 'look for Plex on the Windows server';
  let stdout: string;
  try {
    stdout = (await shell(powershellCommand(windowsProbeScript()), { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: PROBE_OUTPUT_BYTES })).stdout;
  } catch (error) {
    throw commandFailed(what, error);
  }
  const found = detectWindows(stdout);
  if (found.length === 0) throw notFound(undefined);
  const installs = await Promise.all(found.map(async ({ install, preferences }) => {
    let logs: ReturnType<typeof logsFrom>;
    try {
      logs = logsFrom((await shell(powershellCommand(windowsLogScript(install.logDir)), { timeoutMs: 60_000, maxOutputBytes: PROBE_OUTPUT_BYTES })).stdout);
    } catch (error) {
      logs = { now: '', problem: commandFailed('read Plex\'s log', error).message };
    }
    return { install, files: { preferences, log: logs.log, logProblem: logs.problem, now: logs.now, asRoot: false } };
  }));
  return { installs, notes: [] };
}

function notFound(facts: ServerFacts | undefined): ReclaimError {
  const system = facts?.uname ? ` (${facts.uname})` : '';
  return new ReclaimError(
    'PLEX_INSTALL_NOT_FOUND',
    `Reclaim found no Plex Media Server install on this server${system}: no Plex package (Linux, snap, Synology, QNAP, ASUSTOR, ReadyNAS, WD, FreeBSD), no Plex container, no macOS app and no Windows registry entry.`,
    'Check that this is the machine that runs Plex. If Plex runs in a container or VM on it, sign in to the host that runs the container; if it runs as another user, sign in as that user or as root.',
    { system: facts?.uname },
  );
}

function problemFacts(error: ReclaimError): ProblemFacts {
  return { code: error.code, message: error.message, fix: error.fix, details: { ...error.details } };
}

function withoutToken(preferences: PreferencesSummary): Omit<PreferencesSummary, 'token'> {
  const { token: _token, ...rest } = preferences;
  return rest;
}

/** /identity of the Plex the tunnel reaches, through a forward of its own on the session. */
async function identityThroughSession(client: ssh2.Client, remote: HostPort, headers: Record<string, string>): Promise<PmsIdentity> {
  const listener = await ForwardListener.onLoopback(0, remote);
  listener.use(client);
  const pms = new PmsClient(`http://${LOOPBACK}:${listener.port}`, headers);
  try {
    return await pms.identity();
  } finally {
    await pms.close();
    await listener.close();
  }
}
