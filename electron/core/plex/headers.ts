import os from 'node:os';
// A static import, so it works alike from dist/ (tsc copies the file), in the bundled Electron
// main (Vite inlines it) and in the tests; the version is then never out of step with a release.
import packageJson from '../../../package.json' with { type: 'json' };

// The X-Plex-* headers that name Reclaim to Plex (it shows them under Authorized Devices) and the
// client identifier that ties a PIN to the app that created it.

export const PRODUCT = 'Reclaim';
const VERSION = packageJson.version;

const PLATFORMS: Record<string, string> = { win32: 'Windows', darwin: 'macOS', linux: 'Linux' };

export function plexHeaders(clientIdentifier: string): Record<string, string> {
  return {
    'X-Plex-Client-Identifier': clientIdentifier,
    'X-Plex-Product': PRODUCT,
    'X-Plex-Version': VERSION,
    'X-Plex-Platform': PLATFORMS[process.platform] ?? process.platform,
    'X-Plex-Platform-Version': os.release(),
    'X-Plex-Device': PLATFORMS[process.platform] ?? process.platform,
    'X-Plex-Device-Name': `${PRODUCT} on ${os.hostname()}`,
    'X-Plex-Provides': 'controller',
  };
}
