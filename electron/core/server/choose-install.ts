import type { ReclaimError } from '../common/errors.js';
import type { InstallReport, Notice, TunnelIdentity } from './inspect-report.js';
import { describeAge } from './log-findings.js';

// Which install is the Plex answering through the tunnel: the one whose ProcessedMachineIdentifier
// equals what /identity reports (plex-repair.md §6.1). And whether that Plex is still starting, as
// after waking from sleep, when "Not authorized" means "wait", not "repair".

const SETTLING_SECONDS = 15 * 60;

export function chooseInstall(installs: InstallReport[], tunnel: TunnelIdentity | ReclaimError): { chosen: number | null; choice: string } {
  if ('machineIdentifier' in tunnel) {
    const matches = installs.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.answersTunnel);
    if (matches.length >= 1) {
      const { entry, index } = matches[0]!;
      return {
        chosen: index,
        choice: installs.length === 1
          ? `This is the Plex answering through the tunnel (machine ${tunnel.machineIdentifier}).`
          : `Of ${installs.length} Plex installs, ${entry.install.description} is the one answering through the tunnel: its ProcessedMachineIdentifier matches what Plex reports (machine ${tunnel.machineIdentifier}).`,
      };
    }
    return {
      chosen: installs.length === 1 ? 0 : null,
      choice: `None of the ${installs.length === 1 ? 'install\'s Preferences' : `${installs.length} installs' Preferences`} match the Plex answering through the tunnel (machine ${tunnel.machineIdentifier}): it may run elsewhere (another container, a VM), or its Preferences were replaced since it started.`,
    };
  }
  if (installs.length === 1) return { chosen: 0, choice: `Found one Plex install; Plex did not answer through the tunnel to confirm it (${tunnel.message})` };
  const running = installs.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.install.running === true);
  if (running.length === 1) {
    return { chosen: running[0]!.index, choice: `Of ${installs.length} Plex installs, only ${running[0]!.entry.install.description} is running; Plex did not answer through the tunnel to confirm it.` };
  }
  return { chosen: null, choice: `Found ${installs.length} Plex installs, and could not tell which one answers through the tunnel (${tunnel.message}).` };
}

/** "Still starting" when Plex said so, or it runs but does not answer yet and started minutes ago. */
export function startingNotice(chosen: InstallReport | undefined, tunnel: TunnelIdentity | ReclaimError): Notice | undefined {
  const lastStart = chosen?.log.lastStart;
  const recentStart = lastStart && lastStart.ageSeconds !== null && lastStart.ageSeconds < SETTLING_SECONDS ? lastStart : undefined;
  const maintenance = chosen?.log.findings.find((finding) => finding.id === 'log-startup-maintenance' && !finding.beforeLastStart);
  const notAnswering = !('machineIdentifier' in tunnel) && ['PMS_UNREACHABLE', 'REMOTE_NOT_LISTENING', 'PMS_STARTING'].includes(tunnel.code);
  const said = !('machineIdentifier' in tunnel) && tunnel.code === 'PMS_STARTING';
  if (!said && !(notAnswering && chosen?.install.running !== false && (recentStart || maintenance))) return undefined;
  const since = recentStart ? ` It started ${describeAge(recentStart.ageSeconds)}` : '';
  return {
    title: 'Plex Media Server is still starting',
    detail: `${said ? 'Plex says it is still starting up.' : 'Plex runs but does not answer yet.'}${since}${maintenance ? `${since ? ' and' : ' It'} is running its startup maintenance` : ''}${since || maintenance ? '.' : ''} Until it has settled (as after waking from sleep) apps can say "Not authorized": that is not a broken sign-in.`,
    fix: 'Wait a few minutes, then reload Plex (or inspect again). Nothing needs repairing for this.',
  };
}
