import { WebContentsView, session as electronSession, type BrowserWindow, type Rectangle } from 'electron';
import type { ViewBounds } from '../shared/ipc-contract.js';
import { guardWindowOpen } from './sign-in-window.js';
import { guardNavigation, guardPermissions } from './web-guards.js';
import { mayNavigatePlexView } from './web-policy.js';
import { plexPartition, plexViewPreferences } from './window-options.js';

// The server's own Plex Web App, shown inside Reclaim's window in a WebContentsView laid over the
// place the UI keeps for it. Each server gets its own session partition; nothing in it has a
// preload, and it may not leave the tunnel origin except for plex.tv sign-in in a child window.
// Without Chromium's OS sandbox (see sandbox.ts) no view is made at all: the UI says why.

export class PlexViews {
  private current: { profileId: string; webUrl: string; view: WebContentsView; placed: Rectangle | null; fullScreen: boolean } | undefined;
  private readonly guardedSessions = new Set<string>();

  /** `remotePages` false: the process runs without Chromium's sandbox, and shows no view. */
  constructor(private readonly window: BrowserWindow, private readonly remotePages = true) {
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
    if (!this.remotePages) return;
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
    const onTunnel = (url: string) => mayNavigatePlexView(url, origin);
    guardNavigation(view.webContents, { mainFrame: onTunnel, subFrame: onTunnel });
    guardWindowOpen(view.webContents, { owner: this.window, parent: this.window, partition, tunnelOrigin: origin });
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
