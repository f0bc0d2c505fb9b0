import { inspect } from 'node:util';
import { ReclaimError } from '../common/errors.js';
import { readXmlRoot, UnreadableReplyError } from '../plex/reply.js';

// What a server's Preferences say about its Plex sign-in: Preferences.xml parsed as XML, or the
// values read from the Windows registry or macOS `defaults`. The server's token is held in a
// ServerToken that prints as "[redacted]" everywhere (JSON, logs, util.inspect) and gives its
// value only to the one call that checks it with plex.tv.

export const SIGN_IN_KEYS = [
  'PlexOnlineToken',
  'PlexOnlineUsername',
  'PlexOnlineMail',
  'PlexOnlineHome',
  'ProcessedMachineIdentifier',
  'PublishServerOnPlexOnlineKey',
  'AcceptedEULA',
] as const;

export type SignInKey = (typeof SIGN_IN_KEYS)[number];

export class ServerToken {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The token itself, for the plex.tv check only. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'ServerToken [redacted]';
  }
}

export interface PreferencesSummary {
  /** Which of the sign-in keys are present (a token present but empty counts as present). */
  present: Record<SignInKey, boolean>;
  machineIdentifier: string;
  username?: string;
  token?: ServerToken;
  /** "set" only for a non-empty token; an empty PlexOnlineToken="" reads as "missing". */
  tokenState: 'set' | 'missing';
  /** PlexOnlineToken="" is there but empty (binhex blanks it; LinuxServer then thinks it is claimed). */
  tokenEmpty: boolean;
  publishServer?: string;
  acceptedEula?: string;
}

/** Preferences.xml is a few KiB; anything far larger is not one. */
export const MAX_PREFERENCES_BYTES = 1024 * 1024;
const MACHINE_ID = /^[A-Za-z0-9-]{8,64}$/;

export function unreadablePreferences(where: string, why: string, fix?: string): ReclaimError {
  return new ReclaimError(
    'PLEX_PREFERENCES_UNREADABLE',
    `Plex's Preferences at ${where} ${why}.`,
    fix ?? 'Check that this is the Preferences Plex really uses (start Plex once so it writes them). Never delete or recreate the file: that gives the server a new identity.',
    { where },
  );
}

/** Preferences.xml as text: one <Preferences …/> element whose attributes are the settings. */
export function parsePreferencesXml(text: string, where: string, sizeBytes?: number): PreferencesSummary {
  if (sizeBytes !== undefined && sizeBytes > MAX_PREFERENCES_BYTES) {
    throw unreadablePreferences(where, `are ${sizeBytes} bytes, far larger than any Preferences file`);
  }
  if (text.trim() === '') throw unreadablePreferences(where, 'are empty');
  let fields: Record<string, unknown>;
  try {
    fields = readXmlRoot(text, ['Preferences']);
  } catch (error) {
    if (!(error instanceof UnreadableReplyError)) throw error;
    throw unreadablePreferences(where, `are not the XML Plex writes (${error.message.replace(/^the reply/, 'the file')})`);
  }
  return summarise(new Map(Object.entries(fields).map(([key, value]) => [key, String(value)])), where);
}

/** Values read one by one (Windows registry, macOS defaults), by key. */
export function summarise(values: Map<string, string>, where: string): PreferencesSummary {
  const machineIdentifier = values.get('ProcessedMachineIdentifier')?.trim();
  if (!machineIdentifier) {
    throw unreadablePreferences(where, 'have no ProcessedMachineIdentifier, so they are not Preferences a running Plex has written (or they were recreated)');
  }
  if (!MACHINE_ID.test(machineIdentifier)) throw unreadablePreferences(where, 'have a ProcessedMachineIdentifier that is not a Plex machine identifier');
  const present = Object.fromEntries(SIGN_IN_KEYS.map((key) => [key, values.has(key)])) as Record<SignInKey, boolean>;
  const token = values.get('PlexOnlineToken') ?? '';
  return {
    present,
    machineIdentifier,
    username: values.get('PlexOnlineUsername') || undefined,
    token: token ? new ServerToken(token) : undefined,
    tokenState: token ? 'set' : 'missing',
    tokenEmpty: values.has('PlexOnlineToken') && !token,
    publishServer: values.get('PublishServerOnPlexOnlineKey'),
    acceptedEula: values.get('AcceptedEULA'),
  };
}
