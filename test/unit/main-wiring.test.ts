import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS, channelFor } from '../../electron/shared/ipc-contract.js';
import * as electron from '../fakes/electron.js';

// electron/main/main.ts itself, started once against the recording fake: what it sets up before
// and after the app is ready (the checklist's catch-all guards, the app:// scheme, the IPC
// handlers, the window) is read back from what it asked Electron for.

let home: string;
const savedHome = process.env.RECLAIM_HOME;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-main-'));
  process.env.RECLAIM_HOME = home;
  electron.resetElectronFake();
  // What Forge's Vite plugin defines for a packaged build.
  Object.assign(globalThis, { MAIN_WINDOW_VITE_DEV_SERVER_URL: undefined, MAIN_WINDOW_VITE_NAME: 'main_window' });
  await import('../../electron/main/main.js');
  // start() runs after whenReady() and some file I/O; its last act is loading the UI.
  await vi.waitFor(() => {
    if (electron.BrowserWindow.instances[0]?.webContents.getURL() !== 'app://reclaim/index.html') throw new Error('main has not loaded the UI yet');
  }, { timeout: 10_000, interval: 5 });
});

afterAll(async () => {
  if (savedHome === undefined) delete process.env.RECLAIM_HOME;
  else process.env.RECLAIM_HOME = savedHome;
  await rm(home, { recursive: true, force: true });
});

describe('the main process as started', () => {
  it('registers app:// as a secure standard scheme and serves the UI from it', () => {
    expect(electron.protocol.privileged).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(electron.protocol.handlers.has('app')).toBe(true);
    const window = electron.BrowserWindow.instances[0]!;
    expect(window.webContents.getURL()).toBe('app://reclaim/index.html');
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
  });

  it('handles every contract method, and serves only the window showing app://reclaim/', async () => {
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(API_METHODS.map(channelFor).sort());
    const window = electron.BrowserWindow.instances[0]!;
    const handler = electron.ipcMain.handlers.get(channelFor('listProfiles'))!;
    const from = (senderId: number, url: string) => ({ sender: { id: senderId }, senderFrame: { url, parent: null } });
    expect(await handler(from(window.webContents.id, 'app://reclaim/index.html'))).toEqual({ ok: true, value: [] });
    expect(await handler(from(window.webContents.id, 'file:///tmp/evil.html'))).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await handler(from(window.webContents.id + 1000, 'app://reclaim/index.html'))).toMatchObject({ ok: false });
  });

  it('keeps a log in Reclaim\'s folder from the start', async () => {
    expect(await readFile(path.join(home, 'reclaim.log'), 'utf8')).toMatch(/ app\[\d+\] info: app: started \(Reclaim 0\.0\.0-fake, /);
  });

  it('guards every page Electron creates: no webview, no window.open by default', () => {
    const contents = new electron.FakeWebContents(electron.session.defaultSession);
    electron.app.emit('web-contents-created', {}, contents);
    const attach = electron.navigationEvent('about:blank');
    contents.emit('will-attach-webview', attach);
    expect(attach.defaultPrevented).toBe(true);
    expect(contents.windowOpenHandler?.({ url: 'https://example.com/', disposition: 'new-window' })).toEqual({ action: 'deny' });
  });

  it("never lets Reclaim's own window navigate, and denies it every permission", () => {
    const window = electron.BrowserWindow.instances[0]!;
    const away = electron.navigationEvent('https://example.com/');
    window.webContents.emit('will-navigate', away);
    expect(away.defaultPrevented).toBe(true);
    let granted: boolean | undefined;
    electron.session.defaultSession.permissionRequestHandler?.(window.webContents, 'notifications', (value) => (granted = value), { requestingUrl: 'app://reclaim/index.html' });
    expect(granted).toBe(false);
  });
});
