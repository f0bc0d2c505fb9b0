import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { SANDBOX_OFF_ARGUMENT } from '../shared/ipc-contract.js';

// The webPreferences of every kind of page Reclaim shows, in one place so they can be read and
// tested together (Electron security checklist items 2-4, 6, 8-10).

const LOCKED_DOWN: WebPreferences = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
};

/**
 * Reclaim's own UI: the only page with a preload, and that preload exposes only window.reclaim.
 * `sandboxed` false tells the preload (through its process.argv) that the OS sandbox is off.
 */
export function mainWindowOptions(preloadPath: string, sandboxed = true): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 720,
    minHeight: 520,
    title: 'Reclaim',
    show: false,
    autoHideMenuBar: true,
    webPreferences: { ...LOCKED_DOWN, preload: preloadPath, ...(sandboxed ? {} : { additionalArguments: [SANDBOX_OFF_ARGUMENT] }) },
  };
}

/** The server's Plex Web App: remote content, no preload, its own session per server. */
export function plexViewPreferences(profileId: string): WebPreferences {
  return { ...LOCKED_DOWN, partition: plexPartition(profileId) };
}

/** Shares the Plex view's partition, so a sign-in there is seen by Plex Web (its own Claim button). */
export function signInWindowOptions(partition: string, parent?: Electron.BrowserWindow): BrowserWindowConstructorOptions {
  return {
    width: 520,
    height: 720,
    title: 'Sign in with Plex',
    parent,
    modal: false,
    autoHideMenuBar: true,
    webPreferences: { ...LOCKED_DOWN, partition },
  };
}

/**
 * In memory only (no `persist:`): Plex Web keeps the person's Plex token in its storage, and a
 * persistent partition would write it to disk in plain text. Signing in again per session is
 * the price.
 */
export function plexPartition(profileId: string): string {
  return `plex-${profileId}`;
}

export const SIGN_IN_PARTITION = 'reclaim-signin';
