import type ssh2 from 'ssh2';
import { LOOPBACK } from '../../common/loopback.js';
import type { HostPort } from '../../common/target.js';
import { PmsClient } from '../../plex/pms.js';
import { ForwardListener } from '../../tunnel/forward-listener.js';
import { DEFAULT_REMOTE } from '../../tunnel/tunnel.js';
import { installKey } from '../detect.js';
import { inspectWith } from '../inspect.js';
import type { InspectReport, InstallReport } from '../inspect-report.js';
import { Privilege, type SudoPassword } from '../privilege.js';
import { sshShell } from '../server-shell.js';
import { chosenInstall } from './plan.js';
import { recoverInterrupted, type Recovered } from './recover.js';
import { RepairSession, type RepairContext } from './session.js';

// Getting ready to repair (or undo) over an SSH session Reclaim already has: a forward of its own
// to Plex, root as the server gives it, inspect to find the install answering through the tunnel,
// the server's repair lock for it, and the recovery of a run that was cut off. What is left is the
// person's part: sign in, read the plan, say yes.

export interface OpenRepairOptions extends Omit<RepairContext, 'privilege' | 'pms'> {
  headers: Record<string, string>;
  sudoPassword?: SudoPassword;
  remote?: HostPort;
  /** The local end of the forward to Plex on 127.0.0.1 (default: any free port). */
  localPort?: number;
}

export interface OpenedRepair {
  report: InspectReport;
  entry: InstallReport;
  session: RepairSession;
  recovered?: Recovered;
  /** Gives the lock back and closes the forward. */
  close(): Promise<void>;
}

export async function openRepair(client: ssh2.Client, options: OpenRepairOptions): Promise<OpenedRepair> {
  const listener = await ForwardListener.onLoopback(options.localPort ?? 0, options.remote ?? DEFAULT_REMOTE);
  listener.use(client);
  const pms = new PmsClient(`http://${LOOPBACK}:${listener.port}`, options.headers);
  const shell = sshShell(client);
  const privilege = new Privilege(shell, options.sudoPassword);
  let session: RepairSession | undefined;
  const close = async () => {
    await session?.close();
    await pms.close();
    await listener.close();
  };
  try {
    const inspect = () => inspectWith(shell, { plexTv: options.plexTv, identity: () => pms.identity(), privilege, root: options.root });
    let report = await inspect();
    let entry = chosenInstall(report);
    session = await RepairSession.open(entry.install, { ...options, privilege, pms });
    const recovered = await recoverInterrupted(session);
    if (recovered) {
      // The server changed: look again, at the same install.
      report = await inspect();
      const key = installKey(entry.install);
      entry = report.installs.find((candidate) => installKey(candidate.install) === key) ?? chosenInstall(report);
    }
    return { report, entry, session, recovered, close };
  } catch (error) {
    await close();
    throw error;
  }
}
