// Every failure Reclaim reports is a ReclaimError: a stable code that programs (the CLI's
// --json output, the desktop UI) can switch on, a plain-language message saying what went
// wrong, and a fix saying what the person can do about it. Nothing else should reach a user.

export type ErrorCode =
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'HOST_KEY_REVOKED'
  | 'AUTH_FAILED'
  | 'CONNECT_FAILED'
  | 'SSH_FAILED'
  | 'FORWARD_PROHIBITED'
  | 'REMOTE_NOT_LISTENING'
  | 'FORWARD_FAILED'
  | 'PORT_IN_USE'
  | 'BAD_INPUT'
  // Plex Media Server, reached through the tunnel
  | 'PMS_UNREACHABLE'
  | 'PMS_STARTING'
  | 'PMS_BAD_REPLY'
  | 'PMS_NOT_LOCAL'
  | 'CLAIM_TOKEN_INVALID'
  | 'SERVER_CANNOT_REACH_PLEX_TV'
  | 'CLAIM_NOT_VERIFIED'
  // plex.tv, reached from this computer
  | 'PLEX_TV_UNREACHABLE'
  | 'PLEX_TV_ERROR'
  | 'PLEX_TOKEN_INVALID'
  | 'SIGNIN_EXPIRED'
  | 'SIGNIN_CANCELLED'
  | 'UNEXPECTED'
  // The server's Plex install
  | 'PLEX_INSTALL_NOT_FOUND'
  | 'PLEX_PREFERENCES_UNREADABLE'
  | 'SUDO_REQUIRED'
  | 'SUDO_REFUSED'
  | 'SERVER_COMMAND_FAILED';

/** Extra facts a caller may show or act on, e.g. fingerprints or the known_hosts line to fix. */
export type ErrorDetails = Record<string, unknown>;

export class ReclaimError extends Error {
  override readonly name = 'ReclaimError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fix: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { code: ErrorCode; message: string; fix: string } & ErrorDetails {
    return { ...this.details, code: this.code, message: this.message, fix: this.fix };
  }
}

export function isReclaimError(value: unknown): value is ReclaimError {
  return value instanceof ReclaimError;
}

/** Anything thrown, as a ReclaimError: ours as they are, anything else as UNEXPECTED in words. */
export function asReclaimError(error: unknown): ReclaimError {
  return isReclaimError(error)
    ? error
    : new ReclaimError(
        'UNEXPECTED',
        `Something unexpected went wrong: ${(error as Error)?.message ?? String(error)}`,
        'Try again. If it happens again, please report it with what you did (without any passwords).',
      );
}

export function badInput(message: string, fix: string, details?: ErrorDetails): ReclaimError {
  return new ReclaimError('BAD_INPUT', message, fix, details);
}

/**
 * Text a server sent (a disconnect reason, a login prompt, an error page) made safe to show: a
 * server that has not yet proved who it is could otherwise send terminal escape sequences that
 * clear the screen or fake a prompt.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
