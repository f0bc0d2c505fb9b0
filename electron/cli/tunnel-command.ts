import { DEFAULT_LOCAL_PORT, DEFAULT_REMOTE, Tunnel, type TunnelEvent } from '../core/tunnel/tunnel.js';
import { isCancelled } from '../core/common/errors.js';
import { log } from '../core/common/log.js';
import { formatHostPort } from '../core/common/target.js';
import { parseArguments } from './arguments.js';
import { CommandLine } from './command-line.js';
import { invokedAs } from './invocation.js';
import { exitCodeFor, type Output } from './output.js';
import {
  connectSettingsFromOptions, isInteractive, routeFromOptions, SSH_OPTIONS, SSH_OPTIONS_HELP, theServer, TUNNEL_OPTIONS, tunnelEnds, type SshOptionValues,
} from './ssh-options.js';

const tunnelHelp = (): string => `Usage: ${invokedAs()} tunnel <[user@]host[:port] | ssh-config alias | PuTTY session> [options]

Forwards 127.0.0.1:${DEFAULT_LOCAL_PORT} on this computer to ${formatHostPort(DEFAULT_REMOTE.host, DEFAULT_REMOTE.port)} on the server,
so Plex sees you as local. Keeps running (and reconnects by itself) until Ctrl+C.

Tunnel options:
  -L, --local-port N      local port on 127.0.0.1 (default ${DEFAULT_LOCAL_PORT}; 0 picks any free port)
      --remote HOST:PORT  far end, as seen from the server (default ${formatHostPort(DEFAULT_REMOTE.host, DEFAULT_REMOTE.port)})
${SSH_OPTIONS_HELP}`;

export async function runTunnel(args: string[], output: Output): Promise<number> {
  const parsed = parseArguments('tunnel', args, { ...SSH_OPTIONS, ...TUNNEL_OPTIONS });
  if (parsed.values.help) {
    output.say(tunnelHelp(), 'stdout');
    return 0;
  }
  const values = parsed.values as SshOptionValues;
  const target = theServer('tunnel', parsed.positionals);
  output.knowRerun({ command: 'tunnel', line: CommandLine.from(target, values), interactive: isInteractive(values) });
  const { hops: route, puttySession } = await routeFromOptions(target, values);
  // A PuTTY session's own forward to Plex (L8888=localhost:32400) gives the ports unless -L or --remote do.
  const forward = puttySession?.plexForward;
  const { localPort, remote } = tunnelEnds(values['local-port'], values.remote, forward?.localPort ?? DEFAULT_LOCAL_PORT, forward?.remote);
  const connect = await connectSettingsFromOptions(values);
  const server = route[route.length - 1]!;
  output.say(`Connecting to ${server.user}@${formatHostPort(server.host, server.port)}${route.length > 1 ? ` through ${route.slice(0, -1).map((hop) => hop.label).join(', ')}` : ''}...`);

  let exitCode = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let readySeen = false;
  const onEvent = (event: TunnelEvent) => {
    switch (event.event) {
      case 'ready':
        readySeen = true;
        output.event({ event: 'ready', localPort: event.localPort, localUrl: event.localUrl, webUrl: event.webUrl, hostKey: event.hostKey, reconnected: event.reconnected });
        output.say(event.reconnected
          ? `Reconnected. The tunnel serves again at ${event.webUrl}`
          : `Tunnel ready: ${event.webUrl}\nServer key: ${event.hostKey.type} ${event.hostKey.fingerprint}\nOpen that address in your browser to use Plex as if you were on the server. Press Ctrl+C to stop.`, 'stdout');
        break;
      case 'reconnecting':
        output.event({ ...event });
        output.say(event.attempt === 1
          ? `Connection lost, reconnecting (requests wait until it is back). ${event.message}`
          : `Still reconnecting: ${event.message} Next try in ${Math.round(event.delayMs / 100) / 10} s (attempt ${event.attempt}).`);
        break;
      case 'warning':
        output.event({ ...event });
        output.say(`Warning: ${event.message}\nFix: ${event.fix}`);
        break;
      case 'blocked':
        output.event({ ...event });
        output.say(`Blocked a request to the tunnel because ${event.reason}.`);
        break;
      case 'error':
        output.error(event.error);
        // Only a running tunnel reconnects: a question cancelled then (Ctrl+C) is a clean stop.
        exitCode = isCancelled(event.error) ? 0 : exitCodeFor(event.error);
        break;
      case 'closed':
        output.event({ event: 'closed' });
        output.say('Tunnel closed.');
        finished();
        break;
    }
  };
  // Signals are caught before the tunnel exists: the ready line goes out while open() is still
  // returning, and a SIGTERM right after it must still close cleanly and free the port.
  let tunnel: Tunnel | undefined;
  let stopRequested = false;
  const stop = (signal: NodeJS.Signals) => {
    log.info(`reclaim tunnel: ${signal} received, stopping`);
    stopRequested = true;
    if (tunnel) void tunnel.close();
    // Still logging in: nothing to tear down that the OS will not free, so stop right away
    // instead of making the person wait out a connect or login timeout.
    else if (!readySeen) process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    tunnel = await Tunnel.open({ route, connect, localPort, remote }, onEvent);
    if (stopRequested) await tunnel.close();
    await done;
    return exitCode;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
