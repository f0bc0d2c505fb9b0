// Every error code Reclaim reports, each with the facts its errors carry (`details`). The codes
// are stable: the CLI's --json output, the window and README's table all use them. Keyed by code,
// so a check of `error.code` tells the compiler exactly which facts are there. Pure types only.

import type { ProfileFields } from './ipc-contract.js';

/** A server key line on record in a known_hosts file. */
export interface RecordedHostKey {
  file: string;
  line: number;
  type: string;
  fingerprint: string;
}

interface HostKeyFacts {
  host: string;
  port: number;
  keyType: string;
  /** What the server showed, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** What a connection attempt met: no such name, refused, no answer in time, and so on. */
export type ConnectFailure = 'dns' | 'refused' | 'timeout' | 'unreachable' | 'network' | 'closed' | 'lost';

interface ChannelFacts {
  target: string;
  /** What the SSH server sent with its refusal. */
  serverSaid: string;
}

export interface ErrorDetailsByCode {
  HOST_KEY_UNKNOWN: HostKeyFacts & { otherTypesKnown: RecordedHostKey[] };
  HOST_KEY_CHANGED: HostKeyFacts & { known: RecordedHostKey[] };
  HOST_KEY_REVOKED: HostKeyFacts & { file: string; line: number };
  AUTH_FAILED: { user: string; host: string; port: number; tried: string[]; serverAccepts: string[]; skipped: string[] };
  CONNECT_FAILED:
    | { host: string; port: number; reason: ConnectFailure; errno?: string }
    | ({ jump: string } & ChannelFacts)
    /** A jump host that could not reach the next hop in time, or hung up first. */
    | { jump: string; target: string; reason: ConnectFailure }
    /** An established link that went away. */
    | { server: string; reason: 'lost' };
  SSH_FAILED: { host?: string; port?: number; level?: string };
  FORWARD_PROHIBITED: ({ server: string } & ChannelFacts) | ({ jump: string } & ChannelFacts);
  REMOTE_NOT_LISTENING: { server: string } & ChannelFacts;
  FORWARD_FAILED: { server: string; target: string; serverSaid?: string; reason?: number };
  PORT_IN_USE: { port: number; errno?: string };
  /** A local port below 1024, which only an administrator may listen on. */
  PORT_NEEDS_PRIVILEGES: { port: number };
  /** `field`: the form field at fault; `file`, `line`: the place in a config file (`token`: the %token there). */
  BAD_INPUT: { field?: keyof ProfileFields; file?: string; line?: number; included?: string; token?: string };
  /** Reclaim's own files (saved servers, passwords, known_hosts, client id, log) could not be read or written. */
  STORAGE_FAILED: { file: string; errno?: string };
  /** The person stopped it: Cancel, a closed sign-in window, Ctrl+C, a question left unanswered. */
  CANCELLED: Record<string, never>;
  /** A request that needs a running tunnel, for a server that has none. */
  NOT_CONNECTED: Record<string, never>;
  // Plex Media Server, reached through the tunnel
  PMS_UNREACHABLE: { path: string; errno?: string };
  PMS_STARTING: { path: string };
  PMS_BAD_REPLY: { path?: string; status?: number; serverSaid?: string };
  PMS_NOT_LOCAL: { status: number; serverSaid: string };
  CLAIM_TOKEN_INVALID: { status: number; serverSaid: string };
  SERVER_CANNOT_REACH_PLEX_TV: { path: string } | { status: number; serverSaid: string };
  CLAIM_NOT_VERIFIED: { machineIdentifier: string };
  // plex.tv, reached from this computer
  PLEX_TV_UNREACHABLE: { errno?: string };
  PLEX_TV_ERROR: { status?: number };
  PLEX_TOKEN_INVALID: { status?: number };
  SIGNIN_EXPIRED: Record<string, never>;
  /** A fault in Reclaim itself; the original error is the ReclaimError's `cause`. */
  UNEXPECTED: Record<string, never>;
  // The server's Plex install, read over SSH
  PLEX_INSTALL_NOT_FOUND: { system?: string };
  /** `where`: the Preferences file, registry key or defaults domain. */
  PLEX_PREFERENCES_UNREADABLE: { where: string };
  SUDO_REQUIRED: { user: string };
  SUDO_REFUSED: { user?: string; reason: 'timeout' | 'not-allowed' | 'tty' | 'wrong-password' | 'other' };
  SERVER_COMMAND_FAILED: { timeoutMs?: number };
  // Repairing the server's Plex sign-in
  /** Another repair (or undo) holds the server's lock; `since`: when it began, by the server's clock. */
  REPAIR_IN_PROGRESS: { since?: string };
  /** Why Reclaim will not repair this install (nothing was changed). */
  REPAIR_NOT_POSSIBLE: { reason: 'no-install' | 'unsupported' | 'no-stop-command' | 'files-inside-stopped-container' | 'no-backup' | 'not-a-file' | 'other-user' };
  /** The person has not said yes to the plan (--yes on the command line); nothing was changed. */
  CONFIRMATION_REQUIRED: Record<string, never>;
  /** Plex Media Server still ran a minute after it was told to stop; `processes`: "pid name" of each left. */
  PMS_WOULD_NOT_STOP: { processes: string[] };
  /** Plex Media Server did not answer after it was started; `state`: what its service manager said. */
  PMS_WOULD_NOT_START: { state?: string };
  /** A file on the server could not be copied or written; `step`: which; `reason`: why, when known. */
  REPAIR_WRITE_FAILED: { step: 'backup' | 'write' | 'restore' | 'journal'; reason: 'disk-full' | 'changed' | 'other' };
  /** The SSH connection went away part-way; the next repair finishes or rolls back what was left. */
  REPAIR_INTERRUPTED: { step?: string };
  /** After the repair the server does not show the new sign-in. */
  REPAIR_NOT_VERIFIED: { machineIdentifier?: string; reason: 'unclaimed' | 'other-server' | 'signed-out' | 'refused-by-plex-tv' };
}

export type ErrorCode = keyof ErrorDetailsByCode;

export type ErrorDetails<C extends ErrorCode = ErrorCode> = ErrorDetailsByCode[C];
