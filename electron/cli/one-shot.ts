import { clientIdentifier } from '../core/plex/client-identifier.js';
import { plexHeaders } from '../core/plex/headers.js';
import { PmsClient } from '../core/plex/pms.js';
import { Tunnel } from '../core/tunnel/tunnel.js';
import type { ConnectSettings, SshHop } from '../core/ssh/connect.js';
import type { HostPort } from '../core/common/target.js';
import { parseArguments, type OptionSpecs } from './arguments.js';
import { CommandLine } from './command-line.js';
import type { Output } from './output.js';
import {
  connectSettingsFromOptions, isInteractive, routeFromOptions, SSH_OPTIONS, theServer, TUNNEL_OPTIONS, tunnelEnds, type SshOptionValues,
} from './ssh-options.js';

// What `status`, `claim` and `diagnose` share: the same target and SSH options as `tunnel`, and
// a tunnel of their own on any free local port (so a running `reclaim tunnel` on 8888 is left
// alone), opened for the job and closed after it.

export const ONE_SHOT_HELP = `
Tunnel options:
  -L, --local-port N      local port on 127.0.0.1 for this command's own tunnel (default: any free port)
      --remote HOST:PORT  Plex, as seen from the server (default 127.0.0.1:32400)`;

export interface OneShot {
  values: SshOptionValues & Record<string, string | boolean | undefined>;
  /** This command line, for suggesting the next command. */
  line: CommandLine;
  route: SshHop[];
  connect: ConnectSettings;
  localPort: number;
  remote: HostPort;
  headers: Record<string, string>;
}

export async function parseOneShot(command: string, args: string[], output: Output, extra: OptionSpecs = {}): Promise<OneShot | 'help'> {
  const parsed = parseArguments(command, args, { ...SSH_OPTIONS, ...TUNNEL_OPTIONS, ...extra });
  if (parsed.values.help) return 'help';
  const values = parsed.values as OneShot['values'];
  const target = theServer(command, parsed.positionals);
  const line = CommandLine.from(target, values);
  output.knowRerun({ command, line, interactive: isInteractive(values) });
  const { hops: route, puttySession } = await routeFromOptions(target, values);
  // Its own tunnel on any free port, but to wherever a PuTTY session forwards Plex.
  const { localPort, remote } = tunnelEnds(values['local-port'], values.remote, 0, puttySession?.plexForward?.remote);
  const connect = await connectSettingsFromOptions(values);
  const headers = plexHeaders(await clientIdentifier());
  return { values, line, route, connect, localPort, remote, headers };
}

/** Opens the job's tunnel and a PMS client through it; both are closed when `job` ends. */
export async function withPms<T>(shot: OneShot, job: (pms: PmsClient, tunnel: Tunnel) => Promise<T>): Promise<T> {
  const tunnel = await Tunnel.open({ route: shot.route, connect: shot.connect, localPort: shot.localPort, remote: shot.remote });
  const pms = new PmsClient(tunnel.localUrl, shot.headers);
  try {
    return await job(pms, tunnel);
  } finally {
    await pms.close();
    await tunnel.close();
  }
}
