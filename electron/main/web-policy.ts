// What the embedded Plex Web App and its pop-ups may do, as pure decisions on URLs so they can be
// tested without Electron. The tunnel origin is http://127.0.0.1:<port> exactly: plain HTTP, but
// only ever over the SSH tunnel on this computer's loopback.

/** Where Plex Web sends people to sign in with plex.tv and the providers plex.tv offers. */
const SIGN_IN_HOSTS: ReadonlySet<string> = new Set([
  'app.plex.tv',
  'plex.tv',
  'www.plex.tv',
  'accounts.google.com',
  'appleid.apple.com',
  'www.facebook.com',
  'm.facebook.com',
]);

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Same scheme, host and port as the tunnel; never a prefix match. */
export function isTunnelUrl(url: string, tunnelOrigin: string): boolean {
  const parsed = parse(url);
  return parsed !== undefined && parsed.protocol === 'http:' && parsed.origin === tunnelOrigin;
}

export function isSignInUrl(url: string): boolean {
  const parsed = parse(url);
  return parsed !== undefined && parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && SIGN_IN_HOSTS.has(parsed.hostname);
}

/** The embedded Plex view may move only within the tunnel origin (main frame, frames, redirects). */
export function mayNavigatePlexView(url: string, tunnelOrigin: string): boolean {
  return isTunnelUrl(url, tunnelOrigin) || url === 'about:blank';
}

/** The sign-in child window may move between plex.tv sign-in pages, or back to the tunnel. */
export function mayNavigateSignIn(url: string, tunnelOrigin: string | undefined): boolean {
  return isSignInUrl(url) || (tunnelOrigin !== undefined && isTunnelUrl(url, tunnelOrigin)) || url === 'about:blank';
}

/** What Reclaim itself may hand to the system browser: a tunnel address, or plex.tv sign-in. */
export function mayOpenExternally(url: string): boolean {
  const parsed = parse(url);
  return isSignInUrl(url)
    || (parsed !== undefined && parsed.protocol === 'http:' && parsed.hostname === '127.0.0.1' && parsed.username === '' && parsed.password === '');
}

/** Plex's own web sites (support articles, app.plex.tv pages): safe to show in the person's browser. */
function isPlexSite(parsed: URL): boolean {
  return parsed.hostname === 'plex.tv' || parsed.hostname.endsWith('.plex.tv');
}

export type WindowOpenDecision = 'sign-in-window' | 'system-browser' | 'deny';

/**
 * A window the Plex view (or its sign-in window) asks to open: plex.tv sign-in opens in the
 * controlled child window; another https page of Plex's own sites goes to the person's browser;
 * everything else (other sites, http, file:, javascript:, custom schemes) is refused. Electron
 * does not say whether a person clicked (a script's window.open looks like a clicked link), so
 * the rule is by address, never by how the window was asked for.
 */
export function decideWindowOpen(url: string): WindowOpenDecision {
  if (isSignInUrl(url)) return 'sign-in-window';
  const parsed = parse(url);
  if (parsed?.protocol === 'https:' && parsed.username === '' && parsed.password === '' && isPlexSite(parsed)) return 'system-browser';
  return 'deny';
}

/** Harmless for a media app and asked for by Plex Web itself: full screen video, copying text. */
const TUNNEL_PERMISSIONS: ReadonlySet<string> = new Set(['fullscreen', 'clipboard-sanitized-write']);

/**
 * Permissions for the embedded Plex view and its windows: denied by default (camera, microphone,
 * notifications, location, clipboard reading, ...); only the two above, and only for the tunnel.
 */
export function mayGrantPermission(permission: string, requestingUrl: string, tunnelOrigin: string | undefined): boolean {
  return tunnelOrigin !== undefined && TUNNEL_PERMISSIONS.has(permission) && isTunnelUrl(requestingUrl, tunnelOrigin);
}
