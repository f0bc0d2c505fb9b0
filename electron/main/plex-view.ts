import { BrowserWindow, WebContentsView, session as electronSession, shell, type Session, type WebContents } from 'electron';
import type { ViewBounds } from '../shared/ipc-contract.js';
import { decideWindowOpen, mayGrantPermission, mayNavigatePlexView, mayNavigateSignIn } from './web-policy.js';
import { plexPartition, plexViewPreferences, signInWindowOptions } from './window-options.js';

// The server's own Plex Web App, shown inside Reclaim's window in a WebContentsView laid over the
// place the UI keeps for it. Each server gets its own session partition; nothing in it has a
// preload, and it may not leave the tunnel origin except for plex.tv sign-in in a child window.

/** Navigation guards for any remote page: main frame, sub-frames and redirects. */
export function guardNavigation(contents: WebContents, allowed: (url: string) => boolean): void {
  const refuse = (event: { preventDefault(): void; url: string }) => {
    if (!allowed(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', refuse);
  contents.on('will-frame-navigate', refuse);
  contents.on('will-redirect', refuse);
}

/** Permission handlers for a remote session: deny unless the policy allows it for the tunnel. */
export function guardPermissions(session: Session, tunnelOrigin: () => string | undefined): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(mayGrantPermission(permission, details.requestingUrl ?? contents?.getURL() ?? '', tunnelOrigin()));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => mayGrantPermission(permission, requestingOrigin, tunnelOrigin()));
  session.setDevicePermissionHandler(() => false);
}

const EXTERNAL_OPEN_INTERVAL_MS = 2000;

/** Windows opened from a remote page: plex.tv sign-in in a guarded child, Plex's pages outside. */
function guardWindowOpen(contents: WebContents, parent: BrowserWindow, partition: string, tunnelOrigin: string | undefined): void {
  let lastExternalOpen = Number.NEGATIVE_INFINITY;
  contents.setWindowOpenHandler(({ url }) => {
    switch (decideWindowOpen(url)) {
      case 'sign-in-window':
        return { action: 'allow', overrideBrowserWindowOptions: signInWindowOptions(partition, parent) };
      case 'system-browser':
        // A page can call window.open in a loop; the person's browser gets one page per burst.
        if (Date.now() - lastExternalOpen >= EXTERNAL_OPEN_INTERVAL_MS) {
          lastExternalOpen = Date.now();
          void shell.openExternal(url);
        }
        return { action: 'deny' };
      case 'deny':
        return { action: 'deny' };
    }
  });
  contents.on('did-create-window', (child) => {
    guardNavigation(child.webContents, (url) => mayNavigateSignIn(url, tunnelOrigin));
    guardWindowOpen(child.webContents, parent, partition, tunnelOrigin);
  });
}

type Rect = { x: number; y: number; width: number; height: number };

export class PlexViews {
  private current: { profileId: string; webUrl: string; view: WebContentsView; placed: Rect | null; fullScreen: boolean } | undefined;
  private readonly guardedSessions = new Set<string>();

  constructor(private readonly window: BrowserWindow) {
    // A full-screen video covers the whole window, whatever size the window takes on the way.
    window.on('resize', () => {
      if (this.current?.fullScreen) this.fillWindow(this.current.view);
    });
  }

  /**
   * Lays the server's view over `bounds`. With bounds null it only comes off the window (a dialog
   * is open, the box scrolled away): its page, and a Plex sign-in under way in it, live on.
   */
  show(target: { profileId: string; webUrl: string }, bounds: ViewBounds | null): void {
    if (this.window.isDestroyed()) return this.close();
    if (this.current && (this.current.profileId !== target.profileId || this.current.webUrl !== target.webUrl)) this.close();
    if (!bounds) {
      if (this.current) this.window.contentView.removeChildView(this.current.view);
      return;
    }
    if (!this.current) this.current = { ...target, view: this.create(target), placed: null, fullScreen: false };
    const { view } = this.current;
    if (!this.window.contentView.children.includes(view)) this.window.contentView.addChildView(view);
    // The UI measures in CSS pixels; the window places views in its own units, which differ by the zoom.
    const zoom = this.window.webContents.getZoomFactor();
    this.current.placed = {
      x: Math.round(bounds.x * zoom),
      y: Math.round(bounds.y * zoom),
      width: Math.round(bounds.width * zoom),
      height: Math.round(bounds.height * zoom),
    };
    // The UI keeps reporting its box while the video is full screen; that place waits for the way back.
    if (!this.current.fullScreen) view.setBounds(this.current.placed);
  }
  focus(profileId: string): void {
    if (this.current?.profileId === profileId && !this.current.view.webContents.isDestroyed()) this.current.view.webContents.focus();
  }

  /** Closes the view for good: of this server only, or whichever is shown. Safe while quitting. */
  close(profileId?: string): void {
    if (!this.current || (profileId !== undefined && this.current.profileId !== profileId)) return;
    const { view } = this.current;
    this.current = undefined;
    if (!this.window.isDestroyed()) this.window.contentView.removeChildView(view);
    if (!view.webContents.isDestroyed()) view.webContents.close();
  }

  private create(target: { profileId: string; webUrl: string }): WebContentsView {
    const origin = new URL(target.webUrl).origin;
    const partition = plexPartition(target.profileId);
    if (!this.guardedSessions.has(partition)) {
      guardPermissions(electronSession.fromPartition(partition), () => this.current?.profileId === target.profileId ? new URL(this.current.webUrl).origin : undefined);
      this.guardedSessions.add(partition);
    }
    const view = new WebContentsView({ webPreferences: plexViewPreferences(target.profileId) });
    guardNavigation(view.webContents, (url) => mayNavigatePlexView(url, origin));
    guardWindowOpen(view.webContents, this.window, partition, origin);
    // Electron takes the window full screen when Plex Web asks (the permission is granted), but
    // leaves the view in its box: the view has to grow to the window, and go back, itself.
    view.webContents.on('enter-html-full-screen', () => this.setFullScreen(view, true));
    view.webContents.on('leave-html-full-screen', () => this.setFullScreen(view, false));
    // A failed load (Plex stopped) shows Chromium's own error page in the view; nothing to add here.
    view.webContents.loadURL(target.webUrl).catch(() => {});
    return view;
  }

  private setFullScreen(view: WebContentsView, fullScreen: boolean): void {
    if (this.current?.view !== view || this.window.isDestroyed()) return;
    this.current.fullScreen = fullScreen;
    if (fullScreen) this.fillWindow(view);
    else if (this.current.placed) view.setBounds(this.current.placed);
  }

  private fillWindow(view: WebContentsView): void {
    if (this.window.isDestroyed()) return;
    const [width = 0, height = 0] = this.window.getContentSize();
    view.setBounds({ x: 0, y: 0, width, height });
  }
}

/** The one-click claim's sign-in page (plex.tv PIN approval), in a guarded child window. */
export function openSignInWindow(parent: BrowserWindow, url: string, partition: string, onClosedByPerson: () => void): () => void {
  const child = new BrowserWindow(signInWindowOptions(partition, parent));
  guardPermissions(child.webContents.session, () => undefined);
  guardNavigation(child.webContents, (target) => mayNavigateSignIn(target, undefined));
  guardWindowOpen(child.webContents, parent, partition, undefined);
  let closingOurselves = false;
  child.on('closed', () => {
    if (!closingOurselves) onClosedByPerson();
  });
  child.loadURL(url).catch(() => {});
  return () => {
    closingOurselves = true;
    if (!child.isDestroyed()) child.close();
  };
}
