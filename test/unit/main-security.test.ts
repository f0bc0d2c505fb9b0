import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { isTrustedSender, registerIpc, UNTRUSTED_SENDER, type SenderFacts } from '../../electron/main/ipc.js';
import { APP_ENTRY, appFileFor, isAppUrl, registerAppScheme, serveAppFiles } from '../../electron/main/app-protocol.js';
import { PlexViews } from '../../electron/main/plex-view.js';
import { sandboxOffBecause } from '../../electron/main/sandbox.js';
import { openSignInWindow, signInOpener } from '../../electron/main/sign-in-window.js';
import {
  decideWindowOpen,
  embedRefusingProvider,
  isSignInUrl,
  isTunnelUrl,
  mayGrantPermission,
  mayLoadSignInFrame,
  mayNavigatePlexView,
  mayNavigateSignIn,
  mayOpenExternally,
} from '../../electron/main/web-policy.js';
import { mainWindowOptions, plexPartition, plexViewPreferences, signInWindowOptions, SIGN_IN_PARTITION } from '../../electron/main/window-options.js';
import {
  API_METHODS,
  channelFor,
  EVENT_CHANNEL,
  SANDBOX_OFF_ARGUMENT,
  type ApiMethod,
  type ReclaimBridge,
  type ReclaimHandlers,
} from '../../electron/shared/ipc-contract.js';
import * as electron from '../fakes/electron.js';

// The Electron shell's security decisions (checklist items 2-4, 13-15, 17, 20), tested in plain
// Node: vitest.config.ts aliases `electron` to a recording fake, so the real main-process and
// preload modules run unchanged and the tests read what they asked Electron for.

const TUNNEL = 'http://127.0.0.1:8888';

beforeEach(() => electron.resetElectronFake());

describe('webPreferences of every page', () => {
  it("locks down Reclaim's own window and gives it the only preload", () => {
    const options = mainWindowOptions('/app/.vite/build/preload.cjs');
    expect(options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      preload: '/app/.vite/build/preload.cjs',
    });
    expect(options.webPreferences).not.toHaveProperty('partition');
  });

  it('gives the Plex view no preload and a saved session of its own per server', () => {
    const preferences = plexViewPreferences('server-1');
    expect(preferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, partition: 'plex-server-1' });
    expect(preferences).not.toHaveProperty('preload');
    expect(plexViewPreferences('server-2').partition).toBe('plex-server-2');
    // In memory: Plex Web's stored token must never reach the disk.
    expect(plexViewPreferences('server-2').partition?.startsWith('persist:')).toBe(false);
    expect(plexPartition('server-1')).toBe(preferences.partition);
  });

  it('opens the sign-in window in the partition it is given, locked down, without a preload', () => {
    const parent = new electron.BrowserWindow() as unknown as Electron.BrowserWindow;
    const options = signInWindowOptions('plex-server-1', parent);
    expect(options.parent).toBe(parent);
    expect(options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, partition: 'plex-server-1' });
    expect(options.webPreferences).not.toHaveProperty('preload');
    // One-click sign-in leaves nothing on disk.
    expect(SIGN_IN_PARTITION.startsWith('persist:')).toBe(false);
  });
});

describe('where the embedded Plex pages may go', () => {
  it('treats only the exact tunnel origin as the tunnel, never a prefix of it', () => {
    expect(isTunnelUrl(`${TUNNEL}/web/index.html#!/settings`, TUNNEL)).toBe(true);
    expect(isTunnelUrl('HTTP://127.0.0.1:8888/web', TUNNEL)).toBe(true);
    for (const url of [
      'http://127.0.0.1:8888.evil.com/web',
      'http://127.0.0.1:88880/web',
      'https://127.0.0.1:8888/web',
      'http://127.0.0.1:8889/web',
      'http://localhost:8888/web',
      'http://[::ffff:127.0.0.1]:8888/web',
      'http://127.0.0.1:8888@evil.com/web',
      'http://127.0.0.1%3A8888@evil.com/',
      'ws://127.0.0.1:8888/',
      'file:///etc/passwd',
      'not a url',
      '',
    ]) {
      expect(isTunnelUrl(url, TUNNEL), url).toBe(false);
    }
  });

  it('recognises plex.tv sign-in only over https, on the listed hosts, without credentials', () => {
    expect(isSignInUrl('https://app.plex.tv/auth#?code=ABCD')).toBe(true);
    expect(isSignInUrl('https://appleid.apple.com/auth/authorize?client_id=tv.plex')).toBe(true);
    // Google refuses sign-in inside an app's window: never shown there, met with a notice instead.
    expect(isSignInUrl('https://accounts.google.com/o/oauth2/v2/auth')).toBe(false);
    expect(embedRefusingProvider('https://accounts.google.com/o/oauth2/v2/auth')).toBe('Google');
    expect(embedRefusingProvider('http://accounts.google.com/')).toBeUndefined();
    expect(embedRefusingProvider('https://accounts.google.com.evil.com/')).toBeUndefined();
    expect(embedRefusingProvider('https://app.plex.tv/auth')).toBeUndefined();
    for (const url of [
      'http://app.plex.tv/auth',
      'https://app.plex.tv.evil.com/auth',
      'https://evil.com/app.plex.tv',
      'https://app.plex.tv@evil.com/',
      'https://someone@app.plex.tv/auth',
      'https://:secret@app.plex.tv/auth',
      'https://support.plex.tv/',
      'javascript:alert(1)//app.plex.tv',
    ]) {
      expect(isSignInUrl(url), url).toBe(false);
    }
  });

  it('keeps the Plex view on the tunnel', () => {
    expect(mayNavigatePlexView(`${TUNNEL}/web/index.html`, TUNNEL)).toBe(true);
    expect(mayNavigatePlexView('about:blank', TUNNEL)).toBe(true);
    for (const url of ['https://app.plex.tv/auth', 'http://127.0.0.1:8889/web', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'https://evil.com/']) {
      expect(mayNavigatePlexView(url, TUNNEL), url).toBe(false);
    }
  });

  it('lets the sign-in window move between sign-in pages and back to its own tunnel only', () => {
    expect(mayNavigateSignIn('https://app.plex.tv/auth', undefined)).toBe(true);
    expect(mayNavigateSignIn('https://appleid.apple.com/auth/authorize', TUNNEL)).toBe(true);
    expect(mayNavigateSignIn(`${TUNNEL}/web`, TUNNEL)).toBe(true);
    expect(mayNavigateSignIn(`${TUNNEL}/web`, undefined)).toBe(false);
    expect(mayNavigateSignIn('https://evil.com/', TUNNEL)).toBe(false);
    expect(mayNavigateSignIn('file:///etc/passwd', TUNNEL)).toBe(false);
  });

  it('lets frames in a sign-in page load sign-in pages and captcha challenges, and nothing else', () => {
    for (const url of [
      'https://app.plex.tv/auth/frame',
      'https://newassets.hcaptcha.com/captcha/v1/abc/static/hcaptcha.html#frame=checkbox',
      'https://hcaptcha.com/checksiteconfig',
      'https://www.google.com/recaptcha/api2/anchor?k=key',
      'https://www.recaptcha.net/recaptcha/api2/bframe',
      'https://accounts.google.com/gsi/button?client_id=x',
      'about:blank',
    ]) {
      expect(mayLoadSignInFrame(url, undefined), url).toBe(true);
    }
    for (const url of [
      'https://www.google.com/',
      'https://www.google.com/search?q=recaptcha',
      'https://accounts.google.com/o/oauth2/v2/auth',
      'https://hcaptcha.com.evil.com/',
      'https://evilhcaptcha.com/',
      'http://newassets.hcaptcha.com/captcha',
      'https://ads.example.com/frame',
      'javascript:alert(1)',
    ]) {
      expect(mayLoadSignInFrame(url, undefined), url).toBe(false);
    }
    // The main frame never goes to a captcha or button page.
    expect(mayNavigateSignIn('https://newassets.hcaptcha.com/captcha/v1/abc/static/hcaptcha.html', undefined)).toBe(false);
  });

  it('decides new windows: sign-in in a child, Plex\'s own pages outside, everything else refused', () => {
    expect(decideWindowOpen('https://app.plex.tv/auth#?code=X')).toBe('sign-in-window');
    expect(decideWindowOpen('https://support.plex.tv/articles/200288586')).toBe('system-browser');
    expect(decideWindowOpen('https://accounts.google.com/o/oauth2/v2/auth?client_id=plex')).toBe('provider-refuses-embedding');
    // Electron cannot tell a click from a script, so other sites are refused either way.
    for (const url of [
      'https://example.com/',
      'https://plex.tv.evil.com/',
      'https://evilplex.tv/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://example.com/',
      `${TUNNEL}/web`,
      'https://user:password@example.com/',
      'plex://play',
      'smb://nas/share',
      'data:text/html,hi',
      'not a url',
    ]) {
      expect(decideWindowOpen(url), url).toBe('deny');
    }
  });

  it('grants only full screen and clipboard writing, only to the tunnel, and nothing without one', () => {
    expect(mayGrantPermission('fullscreen', `${TUNNEL}/web`, TUNNEL)).toBe(true);
    // Permission checks pass a bare origin.
    expect(mayGrantPermission('clipboard-sanitized-write', TUNNEL, TUNNEL)).toBe(true);
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'midi', 'display-capture']) {
      expect(mayGrantPermission(permission, `${TUNNEL}/web`, TUNNEL), permission).toBe(false);
    }
    expect(mayGrantPermission('fullscreen', 'https://app.plex.tv/', TUNNEL)).toBe(false);
    expect(mayGrantPermission('fullscreen', 'http://127.0.0.1:8888.evil.com/', TUNNEL)).toBe(false);
    expect(mayGrantPermission('fullscreen', `${TUNNEL}/web`, undefined)).toBe(false);
  });

  it('hands the system browser only tunnel addresses and plex.tv sign-in', () => {
    expect(mayOpenExternally(`${TUNNEL}/web`)).toBe(true);
    expect(mayOpenExternally('http://127.0.0.1:32400/web')).toBe(true);
    expect(mayOpenExternally('https://app.plex.tv/auth#?code=X')).toBe(true);
    for (const url of [
      'https://evil.com/',
      'http://localhost:8888/web',
      'http://127.0.0.1.evil.com/',
      'http://127.0.0.1:8888@evil.com/',
      'http://someone@127.0.0.1:8888/web',
      'http://:password@127.0.0.1:8888/web',
      'https://127.0.0.1:8888/web',
      'file:///etc/passwd',
      'smb://127.0.0.1/share',
      'javascript:alert(1)',
    ]) {
      expect(mayOpenExternally(url), url).toBe(false);
    }
  });
});

describe('which IPC senders are served', () => {
  const APP_PAGE = 'file:///opt/Reclaim/resources/app.asar/.vite/renderer/main_window/index.html';
  const isAppPage = (url: string) => url === APP_PAGE;
  const trusted: SenderFacts = { senderId: 7, frameUrl: APP_PAGE, isTopFrame: true };

  it("serves the top frame of Reclaim's own window showing Reclaim's own page", () => {
    expect(isTrustedSender(trusted, 7, isAppPage)).toBe(true);
  });

  it('refuses any other page, frame or window', () => {
    expect(isTrustedSender({ ...trusted, senderId: 8 }, 7, isAppPage)).toBe(false);
    expect(isTrustedSender(trusted, undefined, isAppPage)).toBe(false);
    expect(isTrustedSender({ ...trusted, isTopFrame: false }, 7, isAppPage)).toBe(false);
    expect(isTrustedSender({ ...trusted, frameUrl: `${TUNNEL}/web` }, 7, isAppPage)).toBe(false);
    expect(isTrustedSender({ ...trusted, frameUrl: undefined }, 7, isAppPage)).toBe(false);
  });
});

/** A service whose every method records its call and answers with its own name. */
function recordingService(): ReclaimHandlers & { calls: Array<{ method: ApiMethod; args: unknown[] }> } {
  const calls: Array<{ method: ApiMethod; args: unknown[] }> = [];
  const service = Object.fromEntries(
    API_METHODS.map((method) => [method, async (...args: unknown[]) => {
      calls.push({ method, args });
      return `${method} done`;
    }]),
  );
  return Object.assign(service as unknown as ReclaimHandlers, { calls });
}

describe('the IPC handlers', () => {
  const APP_PAGE = 'file:///app/.vite/renderer/main_window/index.html';
  const WINDOW_ID = 3;
  const topFrame = (url: string) => ({ url, parent: null });
  const appEvent = { sender: { id: WINDOW_ID }, senderFrame: topFrame(APP_PAGE) };

  let service: ReturnType<typeof recordingService>;
  let windowId: number | undefined;

  beforeEach(() => {
    service = recordingService();
    windowId = WINDOW_ID;
    registerIpc(service, () => windowId, (url) => url === APP_PAGE);
  });

  const invoke = (method: ApiMethod, event: unknown, ...args: unknown[]) => {
    const handler = electron.ipcMain.handlers.get(channelFor(method));
    if (!handler) throw new Error(`no handler for ${method}`);
    return Promise.resolve(handler(event, ...args));
  };

  it('registers exactly one handler per request in the contract', () => {
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(API_METHODS.map(channelFor).sort());
  });

  it('refuses untrusted senders without ever calling the service', async () => {
    const untrusted = {
      'another window': { sender: { id: WINDOW_ID + 1 }, senderFrame: topFrame(APP_PAGE) },
      'a frame inside the window': { sender: { id: WINDOW_ID }, senderFrame: { url: APP_PAGE, parent: topFrame(APP_PAGE) } },
      'the tunnel page in the window': { sender: { id: WINDOW_ID }, senderFrame: topFrame(`${TUNNEL}/web`) },
      'a frame that is gone': { sender: { id: WINDOW_ID }, senderFrame: null },
    };
    for (const [who, event] of Object.entries(untrusted)) {
      expect(await invoke('connect', event, 'server-1'), who).toEqual(UNTRUSTED_SENDER);
      expect(await invoke('listProfiles', event), who).toEqual(UNTRUSTED_SENDER);
    }
    windowId = undefined; // the window was closed
    expect(await invoke('connect', appEvent, 'server-1')).toEqual(UNTRUSTED_SENDER);
    expect(service.calls).toEqual([]);
  });

  it('checks the arguments of a trusted sender before the service sees them', async () => {
    for (const args of [[], [42], ['server-1', 'extra'], ['../../etc/passwd'], ['x'.repeat(65)]]) {
      const reply = await invoke('connect', appEvent, ...args);
      expect(reply, JSON.stringify(args)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
    expect(await invoke('saveProfile', appEvent, null, { host: 'nas' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await invoke('showPlexView', appEvent, 'server-1', { x: 0, y: 0, width: -10, height: 10 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(service.calls).toEqual([]);
  });

  it('passes a trusted, well-formed request to the service and wraps its answer', async () => {
    expect(await invoke('connect', appEvent, 'server-1')).toEqual({ ok: true, value: 'connect done' });
    expect(await invoke('claimWithPlex', appEvent, 'server-1', 'window')).toEqual({ ok: true, value: 'claimWithPlex done' });
    expect(service.calls).toEqual([
      { method: 'connect', args: ['server-1'] },
      { method: 'claimWithPlex', args: ['server-1', 'window'] },
    ]);
  });
});

describe('the preload bridge', () => {
  /** A fresh load of the preload, as in a new page, with the Electron fake it ran against. */
  async function loadPreload(): Promise<{ bridge: ReclaimBridge; fake: typeof electron }> {
    vi.resetModules();
    const fake = await import('../fakes/electron.js');
    await import('../../electron/preload/preload.js');
    expect([...fake.contextBridge.exposed.keys()]).toEqual(['reclaim']);
    return { bridge: fake.contextBridge.exposed.get('reclaim') as ReclaimBridge, fake };
  }

  it('exposes one function per request in the contract, plus onEvent and the shell facts, and nothing of Electron', async () => {
    const { bridge, fake } = await loadPreload();
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent', 'shell'].sort());
    const electronFunctions = [fake.ipcRenderer.invoke, fake.ipcRenderer.on, fake.ipcRenderer.emit, fake.ipcRenderer.removeListener];
    for (const [key, value] of Object.entries(bridge)) {
      if (key === 'shell') continue;
      expect(typeof value).toBe('function');
      expect(electronFunctions).not.toContain(value);
    }
    expect(bridge.shell).toEqual({ sandboxed: true });
    expect(Object.isFrozen(bridge.shell)).toBe(true);
  });

  it("says the sandbox is off when main's argument for it is on the page's command line", async () => {
    process.argv.push(SANDBOX_OFF_ARGUMENT);
    try {
      const { bridge } = await loadPreload();
      expect(bridge.shell).toEqual({ sandboxed: false });
    } finally {
      process.argv.splice(process.argv.indexOf(SANDBOX_OFF_ARGUMENT), 1);
    }
  });

  it('sends each request on its own channel, with the arguments as given', async () => {
    const { bridge, fake } = await loadPreload();
    for (const method of API_METHODS) {
      const request = bridge[method] as (...args: unknown[]) => Promise<unknown>;
      const reply = await request('server-1', { x: 1 });
      expect(reply).toEqual({ channel: channelFor(method), args: ['server-1', { x: 1 }] });
    }
    expect(fake.ipcRenderer.invocations.map((call) => call.channel)).toEqual(API_METHODS.map(channelFor));
  });

  it('hands event listeners the payload only, never the IPC event, and stops when asked', async () => {
    const { bridge, fake } = await loadPreload();
    const heard: unknown[][] = [];
    const stop = bridge.onEvent((...args: unknown[]) => heard.push(args));
    const ipcEvent = { sender: fake.ipcRenderer, ports: [] };
    const payload = { type: 'prompt-closed', id: 'p1' };

    fake.ipcRenderer.emit(EVENT_CHANNEL, ipcEvent, payload);
    fake.ipcRenderer.emit(channelFor('connect'), ipcEvent, { type: 'prompt-closed', id: 'elsewhere' });
    expect(heard).toEqual([[payload]]);

    stop();
    fake.ipcRenderer.emit(EVENT_CHANNEL, ipcEvent, payload);
    expect(heard).toHaveLength(1);
    expect(fake.ipcRenderer.listenerCount(EVENT_CHANNEL)).toBe(0);
  });
});

describe('the embedded Plex view', () => {
  const WEB = `${TUNNEL}/web`;
  const BOUNDS = { x: 240, y: 180, width: 900, height: 560 };

  function showView() {
    const window = new electron.BrowserWindow();
    const views = new PlexViews(window as unknown as Electron.BrowserWindow);
    views.show({ profileId: 'server-1', webUrl: WEB }, BOUNDS);
    const view = electron.WebContentsView.instances.at(-1);
    if (!view) throw new Error('no view was created');
    return { window, views, view };
  }

  it('shows the tunnel in a locked-down view over the place the UI keeps for it', () => {
    const { window, view } = showView();
    expect(view.options.webPreferences).toEqual(plexViewPreferences('server-1'));
    expect(view.webContents.getURL()).toBe(WEB);
    expect(view.bounds).toEqual(BOUNDS);
    expect(window.contentView.children).toEqual([view]);
  });

  it('refuses navigation, frame navigation and redirects away from the tunnel', () => {
    const { view } = showView();
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      const away = electron.navigationEvent('https://evil.com/');
      const within = electron.navigationEvent(`${WEB}/index.html`);
      view.webContents.emit(name, away);
      view.webContents.emit(name, within);
      expect(away.defaultPrevented, name).toBe(true);
      expect(within.defaultPrevented, name).toBe(false);
    }
    for (const name of ['will-frame-navigate', 'will-redirect']) {
      const frameAway = electron.navigationEvent('https://evil.com/', false);
      const frameWithin = electron.navigationEvent(`${WEB}/frame.html`, false);
      view.webContents.emit(name, frameAway);
      view.webContents.emit(name, frameWithin);
      expect(frameAway.defaultPrevented, name).toBe(true);
      expect(frameWithin.defaultPrevented, name).toBe(false);
    }
  });

  it("meets Plex Web's Google sign-in with a notice pointing to the one-click claim, and opens no window", async () => {
    const { window, view } = showView();
    const open = (url: string) => view.webContents.windowOpenHandler?.({ url, disposition: 'new-window' });
    expect(open('https://accounts.google.com/o/oauth2/v2/auth?client_id=plex')).toEqual({ action: 'deny' });
    // A page that keeps asking gets one notice at a time.
    expect(open('https://accounts.google.com/o/oauth2/v2/auth?client_id=plex')).toEqual({ action: 'deny' });
    expect(electron.dialog.messageBoxes).toHaveLength(1);
    const [notice] = electron.dialog.messageBoxes;
    expect(notice?.window).toBe(window);
    expect(notice?.options.message).toBe('Google does not allow signing in inside other apps.');
    expect(notice?.options.detail).toContain('"Claim this server", then "Sign in in my browser"');
    expect(notice?.options.buttons).toEqual(['OK']);
    notice?.respond(0);
    await vi.waitFor(() => {
      open('https://accounts.google.com/o/oauth2/v2/auth?client_id=plex');
      expect(electron.dialog.messageBoxes).toHaveLength(2);
    });
    expect(electron.shell.opened).toEqual([]);
  });

  it("denies the server's session every permission but full screen and clipboard writing for the tunnel", () => {
    const { view } = showView();
    const session = electron.session.fromPartition(plexPartition('server-1'));
    const granted = (permission: string, requestingUrl: string) => {
      let answer: boolean | undefined;
      session.permissionRequestHandler?.(view.webContents, permission, (value) => (answer = value), { requestingUrl });
      return answer;
    };
    expect(granted('fullscreen', WEB)).toBe(true);
    expect(granted('media', WEB)).toBe(false);
    expect(granted('fullscreen', 'https://evil.com/')).toBe(false);
    expect(session.permissionCheckHandler?.(view.webContents, 'clipboard-sanitized-write', TUNNEL, {})).toBe(true);
    expect(session.permissionCheckHandler?.(view.webContents, 'notifications', TUNNEL, {})).toBe(false);
    expect(session.devicePermissionHandler?.({})).toBe(false);
  });

  it('opens plex.tv sign-in in a child sharing the session, Plex\'s pages outside, and nothing else', () => {
    const { view } = showView();
    const open = (url: string, disposition: string) => view.webContents.windowOpenHandler?.({ url, disposition });
    expect(open('https://app.plex.tv/auth#?code=X', 'new-window')).toMatchObject({
      action: 'allow',
      overrideBrowserWindowOptions: { webPreferences: { partition: plexPartition('server-1'), sandbox: true, contextIsolation: true } },
    });
    expect(open('https://support.plex.tv/articles/1', 'foreground-tab')).toEqual({ action: 'deny' });
    expect(open('https://example.com/', 'foreground-tab')).toEqual({ action: 'deny' });
    expect(open('javascript:alert(1)', 'foreground-tab')).toEqual({ action: 'deny' });
    expect(open('file:///etc/passwd', 'foreground-tab')).toEqual({ action: 'deny' });
    expect(electron.shell.opened).toEqual(['https://support.plex.tv/articles/1']);
  });

  it('hands the browser one page per burst, however often the Plex page asks', () => {
    vi.useFakeTimers();
    try {
      const { view } = showView();
      const open = (url: string) => view.webContents.windowOpenHandler?.({ url, disposition: 'foreground-tab' });
      for (let i = 0; i < 50; i++) open(`https://support.plex.tv/articles/${i}`);
      vi.advanceTimersByTime(2000);
      open('https://support.plex.tv/articles/later');
      expect(electron.shell.opened).toEqual(['https://support.plex.tv/articles/0', 'https://support.plex.tv/articles/later']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes the view without an error while quitting, after the window is gone', () => {
    const { window, views, view } = showView();
    window.close();
    expect(() => views.close('server-1')).not.toThrow();
    expect(() => views.show({ profileId: 'server-1', webUrl: WEB }, BOUNDS)).not.toThrow();
    expect(view.webContents.isDestroyed()).toBe(true);
  });

  it('places the view in window units, which differ from the page\'s CSS pixels when zoomed', () => {
    const window = new electron.BrowserWindow();
    (window.webContents as unknown as { zoomFactor: number }).zoomFactor = 2;
    new PlexViews(window as unknown as Electron.BrowserWindow).show({ profileId: 'server-1', webUrl: WEB }, { x: 10, y: 20, width: 300, height: 200 });
    expect(electron.WebContentsView.instances.at(-1)?.bounds).toEqual({ x: 20, y: 40, width: 600, height: 400 });
  });

  it('fills the window while Plex plays a video full screen, and goes back to its box after', () => {
    const { window, views, view } = showView();
    window.contentSize = [1280, 800];
    view.webContents.emit('enter-html-full-screen');
    expect(view.bounds).toEqual({ x: 0, y: 0, width: 1280, height: 800 });

    // The window grows to the screen after the request; the video follows it.
    window.contentSize = [1920, 1080];
    window.emit('resize');
    expect(view.bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1080 });
    // The UI's box moves with the bigger window meanwhile; that must not pull the video back in.
    const moved = { x: 300, y: 200, width: 1500, height: 800 };
    views.show({ profileId: 'server-1', webUrl: WEB }, moved);
    expect(view.bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1080 });

    view.webContents.emit('leave-html-full-screen');
    expect(view.bounds).toEqual(moved);
    window.contentSize = [1280, 800];
    window.emit('resize');
    expect(view.bounds).toEqual(moved);
  });

  it('ignores a full-screen change from a view it has already closed', () => {
    const { window, views, view } = showView();
    views.close('server-1');
    view.webContents.emit('enter-html-full-screen');
    window.emit('resize');
    expect(view.bounds).toEqual(BOUNDS);
  });

  it('takes the view off the window while a dialog covers it, keeping its page, and puts the same one back', () => {
    const { window, views, view } = showView();
    views.show({ profileId: 'server-1', webUrl: WEB }, null);
    expect(window.contentView.children).toEqual([]);
    expect(view.webContents.isDestroyed()).toBe(false);
    views.show({ profileId: 'server-1', webUrl: WEB }, BOUNDS);
    expect(window.contentView.children).toEqual([view]);
    expect(electron.WebContentsView.instances.at(-1)).toBe(view);
  });

  it('gives the keyboard to the view of the server asked for, and to no other', () => {
    const { views, view } = showView();
    views.focus('server-2');
    expect((view.webContents as unknown as { focused: boolean }).focused).toBe(false);
    views.focus('server-1');
    expect((view.webContents as unknown as { focused: boolean }).focused).toBe(true);
  });

  it("closes a server's view for good only when that server disconnects", () => {
    const { window, views, view } = showView();
    views.close('server-2');
    expect(view.webContents.isDestroyed()).toBe(false);
    views.close('server-1');
    expect(window.contentView.children).toEqual([]);
    expect(view.webContents.isDestroyed()).toBe(true);
  });

  it('guards the one-click sign-in window like the view, in the sign-in partition', () => {
    const parent = new electron.BrowserWindow();
    let closedByPerson = 0;
    const close = openSignInWindow(parent as unknown as Electron.BrowserWindow, 'https://app.plex.tv/auth#?code=X', SIGN_IN_PARTITION, () => closedByPerson++);
    const child = electron.BrowserWindow.instances.at(-1);
    if (!child || child === parent) throw new Error('no sign-in window was opened');
    expect(child.options.webPreferences).toMatchObject({ partition: SIGN_IN_PARTITION, sandbox: true, contextIsolation: true, nodeIntegration: false });
    expect(child.options.webPreferences).not.toHaveProperty('preload');
    expect(child.webContents.getURL()).toBe('https://app.plex.tv/auth#?code=X');
    const away = electron.navigationEvent('https://evil.com/');
    child.webContents.emit('will-navigate', away);
    expect(away.defaultPrevented).toBe(true);
    let answer: boolean | undefined;
    child.webContents.session.permissionRequestHandler?.(child.webContents, 'media', (value) => (answer = value), { requestingUrl: 'https://app.plex.tv/' });
    expect(answer).toBe(false);
    close();
    expect(child.isDestroyed()).toBe(true);
    // Closed by Reclaim (signed in), not by the person: the sign-in is not cancelled.
    expect(closedByPerson).toBe(0);
  });

  it("lets the sign-in page hold captcha frames, and no other site's", () => {
    const parent = new electron.BrowserWindow();
    openSignInWindow(parent as unknown as Electron.BrowserWindow, 'https://app.plex.tv/auth#?code=X', SIGN_IN_PARTITION, () => {});
    const child = electron.BrowserWindow.instances.at(-1)!;
    const captcha = electron.navigationEvent('https://newassets.hcaptcha.com/captcha/v1/abc/static/hcaptcha.html', false);
    const tracker = electron.navigationEvent('https://ads.example.com/frame', false);
    const captchaAsPage = electron.navigationEvent('https://newassets.hcaptcha.com/captcha/v1/abc/static/hcaptcha.html');
    child.webContents.emit('will-frame-navigate', captcha);
    child.webContents.emit('will-frame-navigate', tracker);
    child.webContents.emit('will-frame-navigate', captchaAsPage);
    expect([captcha.defaultPrevented, tracker.defaultPrevented, captchaAsPage.defaultPrevented]).toEqual([false, true, true]);
  });

  it('offers to continue a Google sign-in of the one-click claim in the browser, where the claim still sees it', async () => {
    const parent = new electron.BrowserWindow();
    let closedByPerson = 0;
    const signInUrl = 'https://app.plex.tv/auth#?clientID=c&code=PIN';
    openSignInWindow(parent as unknown as Electron.BrowserWindow, signInUrl, SIGN_IN_PARTITION, () => closedByPerson++);
    const child = electron.BrowserWindow.instances.at(-1)!;
    const toGoogle = electron.navigationEvent('https://accounts.google.com/o/oauth2/v2/auth?client_id=plex');
    child.webContents.emit('will-navigate', toGoogle);
    child.webContents.emit('will-frame-navigate', toGoogle);
    expect(toGoogle.defaultPrevented).toBe(true);
    expect(electron.dialog.messageBoxes).toHaveLength(1);
    const [notice] = electron.dialog.messageBoxes;
    expect(notice?.window).toBe(child);
    expect(notice?.options.buttons).toEqual(['Continue in my browser', 'Stay here']);
    notice?.respond(0);
    await vi.waitFor(() => expect(electron.shell.opened).toEqual([signInUrl]));
    expect(child.isDestroyed()).toBe(true);
    // Reclaim closed it: the claim goes on waiting for the approval in the browser.
    expect(closedByPerson).toBe(0);
  });

  it('keeps the sign-in window when the person stays on the Google notice', async () => {
    const parent = new electron.BrowserWindow();
    openSignInWindow(parent as unknown as Electron.BrowserWindow, 'https://app.plex.tv/auth#?code=X', SIGN_IN_PARTITION, () => {});
    const child = electron.BrowserWindow.instances.at(-1)!;
    // Google's own window, asked for by plex.tv's "Continue with Google" button.
    expect(child.webContents.windowOpenHandler?.({ url: 'https://accounts.google.com/o/oauth2/v2/auth', disposition: 'new-window' })).toEqual({ action: 'deny' });
    electron.dialog.messageBoxes[0]?.respond(1);
    await Promise.resolve();
    expect(child.isDestroyed()).toBe(false);
    expect(electron.shell.opened).toEqual([]);
  });

  it('cancels the sign-in when the person closes its window', () => {
    const parent = new electron.BrowserWindow();
    let closedByPerson = 0;
    openSignInWindow(parent as unknown as Electron.BrowserWindow, 'https://app.plex.tv/auth#?code=X', SIGN_IN_PARTITION, () => closedByPerson++);
    electron.BrowserWindow.instances.at(-1)!.close();
    expect(closedByPerson).toBe(1);
  });
});

describe("running without Chromium's sandbox", () => {
  const WEB = `${TUNNEL}/web`;

  it('tells a sandbox switched off from outside from one left on', () => {
    const switches = (...names: string[]) => ({ hasSwitch: (name: string) => names.includes(name) });
    expect(sandboxOffBecause(switches(), {})).toBeUndefined();
    expect(sandboxOffBecause(switches('disable-gpu'), {})).toBeUndefined();
    expect(sandboxOffBecause(switches('no-sandbox'), {})).toBe('it was started with --no-sandbox');
    expect(sandboxOffBecause(switches('no-zygote-sandbox'), {})).toBe('it was started with --no-zygote-sandbox');
    expect(sandboxOffBecause(switches(), { ELECTRON_DISABLE_SANDBOX: '1' })).toBe('ELECTRON_DISABLE_SANDBOX is set');
  });

  it('shows no Plex view at all', () => {
    const window = new electron.BrowserWindow();
    const views = new PlexViews(window as unknown as Electron.BrowserWindow, false);
    views.show({ profileId: 'server-1', webUrl: WEB }, { x: 0, y: 0, width: 500, height: 400 });
    expect(electron.WebContentsView.instances).toEqual([]);
    expect(window.contentView.children).toEqual([]);
  });

  it('signs in to plex.tv in the browser instead of a window', () => {
    const parent = new electron.BrowserWindow();
    const open = signInOpener(parent as unknown as Electron.BrowserWindow, SIGN_IN_PARTITION, false);
    const close = open('https://app.plex.tv/auth#?code=X', () => {});
    expect(electron.BrowserWindow.instances).toEqual([parent]);
    expect(electron.shell.opened).toEqual(['https://app.plex.tv/auth#?code=X']);
    expect(() => close()).not.toThrow();
    // With the sandbox, the same request opens the guarded window.
    signInOpener(parent as unknown as Electron.BrowserWindow, SIGN_IN_PARTITION, true)('https://app.plex.tv/auth#?code=Y', () => {});
    expect(electron.BrowserWindow.instances.at(-1)?.webContents.getURL()).toBe('https://app.plex.tv/auth#?code=Y');
  });

  it("tells Reclaim's own page through its preload, and only when it is off", () => {
    expect(mainWindowOptions('/preload.cjs').webPreferences).not.toHaveProperty('additionalArguments');
    expect(mainWindowOptions('/preload.cjs', false).webPreferences?.additionalArguments).toEqual([SANDBOX_OFF_ARGUMENT]);
  });
});

describe("Reclaim's own page, served from app://reclaim/ instead of file://", () => {
  // In this OS's own path form (C:\..., /opt/...), as the packaged app resolves it.
  const ROOT = path.resolve('/opt/Reclaim/resources/app.asar/.vite/renderer/main_window');
  const inRoot = (...parts: string[]) => path.join(ROOT, ...parts);

  it('names only files inside the renderer folder, however the address is spelled', () => {
    expect(appFileFor(APP_ENTRY, ROOT)).toBe(inRoot('index.html'));
    expect(appFileFor('app://reclaim/assets/index-1.js?v=2#x', ROOT)).toBe(inRoot('assets', 'index-1.js'));
    for (const url of [
      'app://reclaim/../../../etc/passwd',
      'app://reclaim/%2e%2e/%2e%2e/etc/passwd',
      'app://reclaim/assets/..%2f..%2f..%2fetc/passwd',
      'app://reclaim/%E0%A4%A',
      'app://reclaim/',
      'app://other/index.html',
      'app://user@reclaim/index.html',
      'file:///etc/passwd',
      'http://reclaim/index.html',
    ]) {
      // Dot segments are resolved inside the folder (app://reclaim/../etc/passwd is <folder>/etc/passwd).
      const file = appFileFor(url, ROOT);
      expect(file === undefined || file.startsWith(`${ROOT}${path.sep}`), `${url} -> ${file}`).toBe(true);
    }
    expect(appFileFor('app://reclaim/', ROOT)).toBeUndefined();
  });

  it('is a secure, standard scheme whose handler serves from the folder and 404s the rest', async () => {
    registerAppScheme();
    expect(electron.protocol.privileged).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    serveAppFiles(ROOT);
    const handler = electron.protocol.handlers.get('app')!;
    const entryFile = pathToFileURL(inRoot('index.html')).toString();
    expect(await (await handler({ url: APP_ENTRY })).text()).toBe(entryFile);
    expect((await handler({ url: 'app://other/index.html' })).status).toBe(404);
    expect(electron.net.fetched).toEqual([entryFile]);
    expect(isAppUrl('app://reclaim/index.html')).toBe(true);
    expect(isAppUrl('app://reclaim.evil/index.html')).toBe(false);
  });
});
