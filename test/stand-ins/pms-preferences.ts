// Preferences.xml as a Linux Plex Media Server has it after its first-run setup (plex-claim.md §3:
// the keys a fresh server writes, plus the sign-in keys of a claimed one), for test servers.
import { createHash, randomUUID } from 'node:crypto';
import { serializePreferences } from './preferences.mjs';

export interface PreferencesOptions {
  friendlyName?: string;
  /** A signed-in (claimed) server: the PlexOnline* keys. */
  signedIn?: { username: string; email: string; token: string };
  /** More settings, appended (or replacing one of the same name). */
  extra?: Record<string, string>;
  /** The first version installed on this server. */
  oldestVersion?: string;
}

export function plexPreferences(options: PreferencesOptions = {}): { xml: string; machineIdentifier: string } {
  const machine = randomUUID();
  // pms-docker's derivation of the identifier /identity reports (plex-claim.md §3).
  const machineIdentifier = createHash('sha1').update(`${machine}- Plex Media Server`).digest('hex');
  const settings = new Map<string, string>([
    ['OldestPreviousVersion', options.oldestVersion ?? '1.32.5.7349-8f4248874'],
    ['MachineIdentifier', machine],
    ['ProcessedMachineIdentifier', machineIdentifier],
    ['AnonymousMachineIdentifier', randomUUID()],
    ['MetricsEpoch', '1'],
    ['AcceptedEULA', '1'],
    ['FriendlyName', options.friendlyName ?? 'plex-server'],
    ['PublishServerOnPlexOnlineKey', '1'],
  ]);
  if (options.signedIn) {
    settings.set('PlexOnlineHome', '0');
    settings.set('PlexOnlineMail', options.signedIn.email);
    settings.set('PlexOnlineToken', options.signedIn.token);
    settings.set('PlexOnlineUsername', options.signedIn.username);
  }
  settings.set('LastAutomaticMappedPort', '0');
  for (const [key, value] of Object.entries(options.extra ?? {})) settings.set(key, value);
  return { xml: serializePreferences(settings), machineIdentifier };
}
