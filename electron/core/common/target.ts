import net from 'node:net';
import { badInput, isReclaimError } from './errors.js';
import { quoteInput } from './quote-input.js';

// Parsing of what a person types: `[user@]host[:port]`, `HOST:PORT`, jump lists and port numbers.
// Every rejection names the bad value and shows a form that works, because these strings come
// straight from a form field or a command line.

export interface SshAddress {
  user?: string;
  host: string;
  port?: number;
}

export interface HostPort {
  host: string;
  port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;
const USER_NAME = /^[^\s@:/\\\x00-\x1f\x7f]{1,64}$/;

export function parsePort(text: string, what: string, options: { allowZero?: boolean } = {}): number {
  const min = options.allowZero ? 0 : 1;
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) < min || Number(text) > 65535) {
    throw badInput(
      `${what} ${quoteInput(text)} is not a port number.`,
      `Use a whole number from ${min} to 65535${options.allowZero ? ' (0 picks any free port)' : ''}.`,
    );
  }
  return Number(text);
}

export function validateHost(host: string, what = 'Host'): string {
  if (net.isIP(host) || HOST_NAME.test(host)) return host;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw badInput(
      `${what} ${quoteInput(host)} looks like a web address.`,
      'Give just the server name or IP address, for example myserver.example.com or 192.168.1.20.',
    );
  }
  throw badInput(
    `${what} ${quoteInput(host)} is not a valid host name or IP address.`,
    'Use the server name or IP address only, for example myserver.example.com, 192.168.1.20 or [2001:db8::1].',
  );
}

/** `[user@]host[:port]`, `user@[v6addr]:port`, bare IPv6, or `ssh://user@host:port`. */
export function parseSshAddress(text: string): SshAddress {
  let rest = text.trim();
  if (rest === '') throw badInput('No server was given.', 'Give the server as [user@]host[:port], for example plex@myserver.example.com.');
  rest = rest.replace(/^ssh:\/\//i, '').replace(/\/$/, '');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER_NAME.test(user)) {
      throw badInput(`User name ${quoteInput(user)} is not valid.`, 'Write the login name before an @, for example plex@myserver.example.com.');
    }
  }
  let host = rest;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2], 'SSH port');
    if (!net.isIPv6(host)) validateHost(host);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const colon = rest.indexOf(':');
    host = rest.slice(0, colon);
    port = parsePort(rest.slice(colon + 1), 'SSH port');
  }
  validateHost(host);
  return { user, host, port };
}

/** `HOST:PORT` for the far end of the forward, e.g. 127.0.0.1:32400 or [::1]:32400. */
export function parseHostPort(text: string, what: string): HostPort {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  const plain = /^([^:\s]+):(\d+)$/.exec(trimmed);
  const match = bracketed ?? plain;
  if (!match) {
    throw badInput(`${what} ${quoteInput(text)} is not HOST:PORT.`, 'Write it as HOST:PORT, for example 127.0.0.1:32400.');
  }
  return { host: validateHost(match[1] ?? '', what), port: parsePort(match[2] ?? '', `${what} port`) };
}

/**
 * A ProxyJump / -J value: comma-separated hops, each `[user@]host[:port]` or a config alias. A bad
 * hop is named by its position, since the person has to find it in the list.
 */
export function parseJumpList(text: string): SshAddress[] {
  const hops = text.split(',');
  return hops.map((hop, index) => {
    const which = `Jump host ${index + 1} of ${hops.length}`;
    if (hop.trim() === '') {
      throw badInput(`${which} is empty (in ${quoteInput(text)}).`, JUMP_LIST_FIX);
    }
    try {
      return parseSshAddress(hop);
    } catch (error) {
      if (!isReclaimError(error)) throw error;
      throw badInput(`${which} (${quoteInput(hop.trim())}): ${error.message}`, `${error.fix} ${JUMP_LIST_FIX}`);
    }
  });
}

const JUMP_LIST_FIX = 'Jump hosts are [user@]host[:port], separated by commas, for example ops@bastion.example.com,inner:2222.';

/** The `host:port` form people recognise, with IPv6 bracketed. */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
