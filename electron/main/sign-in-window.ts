import { BrowserWindow, dialog, shell, type WebContents } from 'electron';
import { guardNavigation, guardPermissions } from './web-guards.js';
import { decideWindowOpen, embedRefusingProvider, mayLoadSignInFrame, mayNavigateSignIn, mayOpenExternally } from './web-policy.js';
import { signInWindowOptions } from './window-options.js';

// plex.tv sign-in in guarded child windows: the one-click claim's PIN approval, and the sign-in
// Plex Web opens from the embedded view. They may move only between sign-in pages, hold only the
// frames those pages need, and meet a provider that refuses embedded sign-in (Google) with a
// notice rather than a page that cannot work.

const EXTERNAL_OPEN_INTERVAL_MS = 2000;

/** Windows that have a provider notice open: a page that keeps trying gets one at a time. */
const explaining = new WeakSet<BrowserWindow>();

/**
 * Tells the person that `provider` refuses sign-in inside an app. With `continueInBrowser`, the
 * same sign-in can go on in the system browser; without, the way there is the one-click claim.
 */
function explainRefusal(owner: BrowserWindow, provider: string, continueInBrowser?: () => void): void {
  if (owner.isDestroyed() || explaining.has(owner)) return;
  explaining.add(owner);
  const message = `${provider} does not allow signing in inside other apps.`;
  const asked = continueInBrowser
    ? dialog.showMessageBox(owner, {
        type: 'info',
        title: 'Sign in with Plex',
        message,
        detail: `Reclaim can open this Plex sign-in in your web browser instead: sign in there with ${provider} and approve Reclaim, and the claim goes on here by itself.`,
        buttons: ['Continue in my browser', 'Stay here'],
        defaultId: 0,
        cancelId: 1,
      })
    : dialog.showMessageBox(owner, {
        type: 'info',
        title: 'Sign in with Plex',
        message,
        detail: `To claim this server with your ${provider} account, close this window and press "Claim this server", then "Sign in in my browser". Signing in with an email address or Apple works here.`,
        buttons: ['OK'],
      });
  void asked
    .then(({ response }) => {
      if (response === 0) continueInBrowser?.();
    })
    .catch(() => {})
    .finally(() => explaining.delete(owner));
}

export interface SignInGuardOptions {
  /** The window whose pages are guarded, which owns any notice. */
  owner: BrowserWindow;
  /** Reclaim's main window: sign-in windows opened from here become its children. */
  parent: BrowserWindow;
  partition: string;
  /** The tunnel a sign-in may return to (Plex Web's own sign-in), if any. */
  tunnelOrigin: string | undefined;
  /** The one-click claim's way around a refusing provider: the same sign-in in the browser. */
  continueInBrowser?: () => void;
}

/** Windows opened from a remote page: plex.tv sign-in in a guarded child, Plex's pages outside. */
export function guardWindowOpen(contents: WebContents, options: SignInGuardOptions): void {
  let lastExternalOpen = Number.NEGATIVE_INFINITY;
  contents.setWindowOpenHandler(({ url }) => {
    switch (decideWindowOpen(url)) {
      case 'sign-in-window':
        return { action: 'allow', overrideBrowserWindowOptions: signInWindowOptions(options.partition, options.parent) };
      case 'provider-refuses-embedding':
        explainRefusal(options.owner, embedRefusingProvider(url) ?? 'This sign-in provider', options.continueInBrowser);
        return { action: 'deny' };
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
  contents.on('did-create-window', (child) => guardSignInPage(child, { ...options, owner: child }));
}

/** Everything a window showing plex.tv sign-in gets: navigation, frames, notices, new windows. */
function guardSignInPage(window: BrowserWindow, options: SignInGuardOptions): void {
  const { tunnelOrigin } = options;
  guardNavigation(
    window.webContents,
    { mainFrame: (url) => mayNavigateSignIn(url, tunnelOrigin), subFrame: (url) => mayLoadSignInFrame(url, tunnelOrigin) },
    (url) => {
      const provider = embedRefusingProvider(url);
      if (provider) explainRefusal(window, provider, options.continueInBrowser);
    },
  );
  guardWindowOpen(window.webContents, options);
}

/** The one-click claim's sign-in page (plex.tv PIN approval), in a guarded child window. */
export function openSignInWindow(parent: BrowserWindow, url: string, partition: string, onClosedByPerson: () => void): () => void {
  const child = new BrowserWindow(signInWindowOptions(partition, parent));
  let closingOurselves = false;
  const close = () => {
    closingOurselves = true;
    if (!child.isDestroyed()) child.close();
  };
  guardPermissions(child.webContents.session, () => undefined);
  // The claim waits for the PIN to be approved, wherever that happens: in the browser too.
  guardSignInPage(child, {
    owner: child,
    parent,
    partition,
    tunnelOrigin: undefined,
    continueInBrowser: () => {
      void shell.openExternal(url);
      close();
    },
  });
  child.on('closed', () => {
    if (!closingOurselves) onClosedByPerson();
  });
  child.loadURL(url).catch(() => {});
  return close;
}

/**
 * How the one-click claim shows plex.tv's sign-in: in a guarded window, or, when the app runs
 * without Chromium's sandbox, in the person's browser (the claim waits for the PIN either way).
 */
export function signInOpener(parent: BrowserWindow, partition: string, sandboxed: boolean): (url: string, onClosedByPerson: () => void) => () => void {
  if (sandboxed) return (url, onClosedByPerson) => openSignInWindow(parent, url, partition, onClosedByPerson);
  return (url) => {
    if (mayOpenExternally(url)) void shell.openExternal(url);
    return () => {};
  };
}
