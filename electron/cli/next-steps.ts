import type { ReclaimError } from '../core/common/errors.js';
import { serverKeyFile } from '../core/ssh/host-keys/policy.js';
import type { CommandLine } from './command-line.js';

// The core's fixes are written for the app and the command line alike ("Refresh in the app,
// reclaim status on the command line"). Where the next step is to run Reclaim again, the command
// line says exactly what to run, for this server with these options, on a line of its own.

export interface Rerun {
  /** The command that is running: tunnel, status, claim, diagnose. */
  command: string;
  line: CommandLine;
  /** Whether questions can be asked (a terminal, no --json). */
  interactive: boolean;
}

/** The line a suggested command stands on: indented, so it is never wrapped. */
export const commandToRun = (command: string): string => `\n  ${command}`;

export function fixOnCommandLine(error: ReclaimError, rerun: Rerun | undefined): string {
  if (!rerun) return error.fix;
  const { command, line } = rerun;
  switch (error.code) {
    case 'HOST_KEY_UNKNOWN': {
      // A person at a terminal was asked and said no: they get the check, not a way around it.
      // --accept-new takes only a first key, not one beside a key of another type on record.
      if (rerun.interactive || error.details.otherTypesKnown.length > 0 || line.has('--accept-new')) return error.fix;
      const { fingerprint, keyType } = error.details;
      return `Compare ${fingerprint} with the server's own key (on the server: ssh-keygen -lf ${serverKeyFile(keyType)}). ` +
        `If they match, run this in a terminal to be asked, or accept it with --accept-new:${commandToRun(line.command(command, { extra: ['--accept-new'] }))}`;
    }
    // `tunnel` keeps its port for the browser, so it gets a fixed one; the others any free port.
    case 'PORT_IN_USE': {
      const { port } = error.details;
      const other = command === 'tunnel' && port > 0 && port < 65535 ? String(port + 1) : '0';
      return `Close the program that uses port ${port}, or pick another local port (-L 0 picks any free one):${commandToRun(line.command(command, { localPort: other }))}`;
    }
    case 'PORT_NEEDS_PRIVILEGES':
      return `Pick a local port from 1024 up:${commandToRun(line.command(command, { localPort: command === 'tunnel' ? '8888' : '0' }))}`;
    case 'SERVER_CANNOT_REACH_PLEX_TV':
      return 'The server itself must reach plex.tv over HTTPS; a firewall, a wrong gateway or a TLS-inspecting proxy on its network are the usual causes. ' +
        `This checks whether the claim went through and how the server reaches plex.tv (DNS, clock, certificates):${commandToRun(line.command('diagnose'))}`;
    case 'CLAIM_NOT_VERIFIED':
      return `Restart Plex Media Server on the server, then check again; if it stays unclaimed, this says why:${commandToRun(line.command('diagnose'))}`;
    default:
      return error.fix;
  }
}
