import net from 'node:net';
import { ReclaimError } from '../common/errors.js';
import { LOOPBACK } from '../common/loopback.js';
import { formatHostPort } from '../common/target.js';

// ssh2 reports a refused direct-tcpip channel as "(SSH) Channel open failure: open failed" with
// the RFC 4254 reason code in err.reason. That text means nothing to a person, so each reason is
// turned into what actually happened on the server and what to do about it.

const ADMINISTRATIVELY_PROHIBITED = 1;
/** sshd passes getaddrinfo's words on: glibc, musl and BSD/macOS wordings of "no such name". */
const NAME_LOOKUP_FAILED = /name or service not known|name resolution|no address associated with hostname|nodename nor servname|name does not resolve/i;
const CONNECT_FAILED = 2;
const PLEX_PORT = 32400;

interface ChannelOpenError extends Error {
  reason?: number;
}

export function channelOpenReason(error: unknown): number | undefined {
  return (error as ChannelOpenError | undefined)?.reason;
}

/** The text the server sent with the refusal, e.g. "Connection refused". */
function serverDescription(error: unknown): string {
  const message = (error as Error | undefined)?.message ?? '';
  return message.replace(/^\(SSH\) Channel open failure:\s*/, '').trim();
}

/** A refused forward to the tunnel's target, seen right after login or later. */
export function forwardError(error: unknown, server: string, target: { host: string; port: number }): ReclaimError {
  const destination = formatHostPort(target.host, target.port);
  const reason = channelOpenReason(error);
  const said = serverDescription(error);
  if (reason === ADMINISTRATIVELY_PROHIBITED) {
    return new ReclaimError(
      'FORWARD_PROHIBITED',
      `You are signed in to ${server}, but its SSH server does not let this account forward connections to ${destination}.`,
      'Ask the server\'s admin to allow it: AllowTcpForwarding yes (or local) and no PermitOpen limit in /etc/ssh/sshd_config, ' +
        'and no "restrict", "no-port-forwarding" or other permitopen= in this key\'s line of authorized_keys; then restart sshd.',
      { server, target: destination, serverSaid: said },
    );
  }
  if (reason === CONNECT_FAILED && NAME_LOOKUP_FAILED.test(said) && net.isIP(target.host) === 0) {
    return new ReclaimError(
      'FORWARD_FAILED',
      `You are signed in to ${server}, but it cannot find a machine called "${target.host}" (${said}), so it cannot connect to ${destination}.`,
      `Check the remote address: the server itself must be able to look that name up. Plex on the server itself is ${LOOPBACK}:${PLEX_PORT}.`,
      { server, target: destination, serverSaid: said, reason },
    );
  }
  if (reason === CONNECT_FAILED) {
    const plex = target.port === PLEX_PORT;
    return new ReclaimError(
      'REMOTE_NOT_LISTENING',
      `You are signed in to ${server}, but nothing is listening on ${destination} there${said ? ` (${said})` : ''}.` +
        (plex ? ' Is Plex Media Server running?' : ''),
      plex
        ? 'Start Plex Media Server on the server (for example: sudo systemctl start plexmediaserver, or start the Plex app or container), wait a minute, then try again.'
        : `Start the service that should listen on ${destination} on the server, or correct the remote address, then try again.`,
      { server, target: destination, serverSaid: said },
    );
  }
  return new ReclaimError(
    'FORWARD_FAILED',
    `${server} refused to open a connection to ${destination}${said ? ` (${said})` : ''}.`,
    'The SSH server may be short of resources or limit how many connections one login may open. Try again in a moment; if it keeps failing, restart sshd on the server.',
    { server, target: destination, serverSaid: said, reason },
  );
}

/** A jump host that could not carry us on to the next hop. */
export function jumpError(error: unknown, jump: string, next: { host: string; port: number }): ReclaimError {
  const destination = formatHostPort(next.host, next.port);
  const reason = channelOpenReason(error);
  const said = serverDescription(error);
  if (reason === ADMINISTRATIVELY_PROHIBITED) {
    return new ReclaimError(
      'FORWARD_PROHIBITED',
      `The jump host ${jump} does not let this account connect onward to ${destination}.`,
      'Ask the jump host\'s admin to allow TCP forwarding for your account (AllowTcpForwarding, PermitOpen, authorized_keys restrictions).',
      { jump, target: destination, serverSaid: said },
    );
  }
  return new ReclaimError(
    'CONNECT_FAILED',
    `The jump host ${jump} could not reach ${destination}${said ? ` (${said})` : ''}.`,
    `Check the server's address as seen from ${jump}, and that its SSH server is running on port ${next.port}.`,
    { jump, target: destination, serverSaid: said },
  );
}
