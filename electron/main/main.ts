import path from 'node:path';
import os from 'node:os';
import { app, BrowserWindow, clipboard, dialog, powerMonitor, session, shell } from 'electron';
import { AppService } from '../core/app/app-service.js';
import { findAgent } from '../core/ssh/agent.js';
import { defaultPuttyStorage } from '../core/ssh/putty/storage.js';
import { reclaimDataDir, reclaimKnownHostsFile, reclaimLogFile, userKnownHostsFiles } from '../core/common/app-paths.js';
import { log, openLog } from '../core/common/log.js';
import { clientIdentifier } from '../core/plex/client-identifier.js';
import { plexHeaders } from '../core/plex/headers.js';
import { plexTvUrl } from '../core/plex/plex-tv.js';
import { EVENT_CHANNEL, type ReclaimEvent } from '../shared/ipc-contract.js';
import { APP_ENTRY, isAppUrl, registerAppScheme, serveAppFiles } from './app-protocol.js';
import { registerIpc } from './ipc.js';
import { PlexViews } from './plex-view.js';
import { SafeStorageVault } from './safe-storage-vault.js';
import { sandboxOffBecause } from './sandbox.js';
import { signInOpener } from './sign-in-window.js';
import { guardNavigation, guardPermissions } from './web-guards.js';
import { mayOpenExternally } from './web-policy.js';
import { mainWindowOptions, SIGN_IN_PARTITION } from './window-options.js';

// The Electron shell around the core: one window for Reclaim's React UI, the embedded Plex view,
// and the typed IPC between them. No logic lives here; it is all in electron/core.

// Forge's Vite plugin defines these: the dev server in `npm start`, the renderer folder when packaged.
const devServerUrl: string | undefined = MAIN_WINDOW_VITE_DEV_SERVER_URL;
const rendererDir = path.join(__dirname, `../renderer/${MAIN_WINDOW_VITE_NAME}`);

function isAppPage(url: string): boolean {
  if (!devServerUrl) return isAppUrl(url);
  try {
    return new URL(url).origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}

registerAppScheme();

// The log first, so that whatever goes wrong from here on leaves a trace. A log that cannot be
// written is said once on stderr, and is also noted in the diagnose report.
openLog({ file: reclaimLogFile(), source: 'app', onWriteFailure: (error) => console.error(`${error.message} ${error.fix}`) });
// Only watches: Electron's own handling of an uncaught error (its dialog) stays as it is.
process.on('uncaughtExceptionMonitor', (error, origin) => log.error(`main process: ${origin}`, error));

// Catch-all for every page Electron creates; each creator then sets its own, narrower rules.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

let mainWindow: BrowserWindow | undefined;
let service: AppService | undefined;

function send(event: ReclaimEvent): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, event);
}

async function start(): Promise<void> {
  serveAppFiles(rendererDir);
  // Reclaim's own page needs no permission at all.
  guardPermissions(session.defaultSession, () => undefined);
  const sandboxOff = sandboxOffBecause(app.commandLine, process.env);
  if (sandboxOff) console.warn(`Reclaim runs without Chromium's sandbox because ${sandboxOff}: it shows no web page from the internet or the server itself.`);
  const window = new BrowserWindow(mainWindowOptions(path.join(__dirname, 'preload.cjs'), !sandboxOff));
  mainWindow = window;
  guardNavigation(window.webContents, { mainFrame: () => false, subFrame: () => false });
  const views = new PlexViews(window, !sandboxOff);
  const dataDir = reclaimDataDir();
  service = new AppService({
    emit: send,
    profilesFile: path.join(dataDir, 'servers.json'),
    hostKeys: { trustFiles: [...userKnownHostsFiles(), reclaimKnownHostsFile()], recordFile: reclaimKnownHostsFile() },
    putty: defaultPuttyStorage(),
    plexTvUrl: plexTvUrl(),
    plexHeaders: plexHeaders(await clientIdentifier(dataDir)),
    findAgent,
    host: {
      vault: new SafeStorageVault(path.join(dataDir, 'saved-secrets.json')),
      openExternal: async (url) => {
        if (mayOpenExternally(url)) await shell.openExternal(url);
      },
      openSignInWindow: signInOpener(window, SIGN_IN_PARTITION, !sandboxOff),
      copyText: (text) => clipboard.writeText(text),
      chooseFile: async () => {
        const chosen = await dialog.showOpenDialog(window, {
          title: 'Choose your private key',
          defaultPath: path.join(os.homedir(), '.ssh'),
          properties: ['openFile', 'showHiddenFiles'],
        });
        return chosen.canceled ? undefined : chosen.filePaths[0];
      },
      showPlexView: (view, bounds) => views.show(view, bounds),
      closePlexView: (profileId) => views.close(profileId),
      focusPlexView: (profileId) => views.focus(profileId),
    },
  });
  registerIpc(service, () => (window.isDestroyed() ? undefined : window.webContents.id), isAppPage);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    mainWindow = undefined;
  });
  // After sleep or a network change the old link is dead but may not know it for a while.
  powerMonitor.on('resume', () => service?.reconnectAll());
  log.info(`app: started (Reclaim ${app.getVersion()}, Electron ${process.versions.electron}, ${process.platform})`);
  await window.loadURL(devServerUrl ?? APP_ENTRY);
}

if (process.argv.includes('--version')) {
  // What is installed, without a window: for a person, and for CI on each installer's binary.
  process.stdout.write(`Reclaim ${app.getVersion()}\n`);
  app.exit(0);
} else if (!app.requestSingleInstanceLock()) {
  // One Reclaim at a time: two would fight over the same local ports and saved files.
  app.exit(0);
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.whenReady().then(start).catch((error: unknown) => {
    log.error('app: could not start', error);
    console.error('Reclaim could not start:', (error as Error).message);
    app.exit(1);
  });
}

let shuttingDown = false;
app.on('before-quit', (event) => {
  if (shuttingDown || !service) return;
  // Close every tunnel first, so no listener outlives the app.
  event.preventDefault();
  shuttingDown = true;
  log.info('app: quitting, closing every tunnel');
  // Quit even when a tunnel did not close cleanly; the log is the one left to tell.
  void service.shutdown().catch((error: unknown) => log.error('app: a tunnel did not close cleanly while quitting', error)).finally(() => app.quit());
});

app.on('window-all-closed', () => app.quit());
