// What the embedded Plex Web App and its pop-ups may do, as pure decisions on URLs so they can be
// tested without Electron. The tunnel origin is http://127.0.0.1:<port> exactly: plain HTTP, but
// only ever over the SSH tunnel on this computer's loopback.

/** plex.tv's own sign-in pages, where Plex Web and the one-click claim send people. */
const PLEX_SIGN_IN_HOSTS: ReadonlySet<string> = new Set(['app.plex.tv', 'plex.tv', 'www.plex.tv']);

/**
 * The identity providers plex.tv's sign-in offers that let a person sign in inside an app's
 * window. plex.tv opens each in a window of its own (support.plex.tv, "Use Federated
 * Authentication to Sign In"); Facebook is kept for accounts that were made with it.
 */
const EMBEDDABLE_PROVIDER_HOSTS: ReadonlySet<string> = new Set(['appleid.apple.com', 'www.facebook.com', 'm.facebook.com']);

/**
 * Providers that refuse any sign-in inside an app's window, whatever it does: Google answers
 * "This browser or app may not be secure" to embedded browsers (Electron and CEF alike), so
 * Reclaim says so up front instead of showing a page that cannot work.
 */
const EMBED_REFUSING_PROVIDERS: ReadonlyMap<string, string> = new Map([['accounts.google.com', 'Google']]);

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

/** https, no user name or password in it: the only remote addresses the sign-in rules look at. */
function plainHttps(url: string): URL | undefined {
  const parsed = parse(url);
  return parsed?.protocol === 'https:' && parsed.username === '' && parsed.password === '' ? parsed : undefined;
}

/** A plex.tv sign-in page, or a provider's page that works inside the sign-in window. */
export function isSignInUrl(url: string): boolean {
  const parsed = plainHttps(url);
  return parsed !== undefined && (PLEX_SIGN_IN_HOSTS.has(parsed.hostname) || EMBEDDABLE_PROVIDER_HOSTS.has(parsed.hostname));
}

/** The provider's name when `url` is the sign-in of one that refuses embedded browsers. */
export function embedRefusingProvider(url: string): string | undefined {
  const parsed = plainHttps(url);
  return parsed ? EMBED_REFUSING_PROVIDERS.get(parsed.hostname) : undefined;
}

/**
 * Frames a sign-in page may hold besides sign-in pages themselves: the captcha challenges of
 * hCaptcha and Google reCAPTCHA (served from fixed hosts and paths), and Google's "Sign in with
 * Google" button (accounts.google.com/gsi/), whose window is then met with the notice above.
 */
function isSignInFrame(url: string): boolean {
  const parsed = plainHttps(url);
  if (!parsed) return false;
  const { hostname, pathname } = parsed;
  return hostname === 'hcaptcha.com' || hostname.endsWith('.hcaptcha.com')
    || ((hostname === 'www.google.com' || hostname === 'www.recaptcha.net') && pathname.startsWith('/recaptcha/'))
    || (hostname === 'accounts.google.com' && pathname.startsWith('/gsi/'));
}

/** The embedded Plex view may move only within the tunnel origin (main frame, frames, redirects). */
export function mayNavigatePlexView(url: string, tunnelOrigin: string): boolean {
  return isTunnelUrl(url, tunnelOrigin) || url === 'about:blank';
}

/** The sign-in child window may move between plex.tv sign-in pages, or back to the tunnel. */
export function mayNavigateSignIn(url: string, tunnelOrigin: string | undefined): boolean {
  return isSignInUrl(url) || (tunnelOrigin !== undefined && isTunnelUrl(url, tunnelOrigin)) || url === 'about:blank';
}

/** A frame inside a sign-in page: what its window may show, plus the captcha and button frames. */
export function mayLoadSignInFrame(url: string, tunnelOrigin: string | undefined): boolean {
  return mayNavigateSignIn(url, tunnelOrigin) || isSignInFrame(url);
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

export type WindowOpenDecision = 'sign-in-window' | 'provider-refuses-embedding' | 'system-browser' | 'deny';

/**
 * A window the Plex view (or its sign-in window) asks to open: plex.tv sign-in opens in the
 * controlled child window; a provider that refuses embedded sign-in gets a notice instead; another
 * https page of Plex's own sites goes to the person's browser; everything else (other sites, http, file:, javascript:, custom schemes) is refused. Electron
 * does not say whether a person clicked (a script's window.open looks like a clicked link), so
 * the rule is by address, never by how the window was asked for.
 */
export function decideWindowOpen(url: string): WindowOpenDecision {
  if (isSignInUrl(url)) return 'sign-in-window';
  if (embedRefusingProvider(url)) return 'provider-refuses-embedding';
  const parsed = plainHttps(url);
  if (parsed && isPlexSite(parsed)) return 'system-browser';
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
