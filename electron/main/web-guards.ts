import type { Session, WebContents } from 'electron';
import { mayGrantPermission } from './web-policy.js';

// The guards every remote page gets, whichever window shows it: where its frames may navigate,
// and which permissions its session may grant.

export interface NavigationRules {
  /** Where the page itself may go (navigations and redirects of the main frame). */
  mainFrame(url: string): boolean;
  /** What a frame inside it may load. */
  subFrame(url: string): boolean;
}

interface NavigationEvent {
  url: string;
  /** Electron's navigation events say it; will-navigate concerns the main frame only. */
  isMainFrame?: boolean;
  preventDefault(): void;
}

/**
 * Navigation guards for any remote page: main frame, frames and redirects. `onRefused` hears of
 * a refused main-frame navigation (possibly more than once for one, as two events cover it).
 */
export function guardNavigation(contents: WebContents, rules: NavigationRules, onRefused?: (url: string) => void): void {
  const check = (event: NavigationEvent) => {
    const mainFrame = event.isMainFrame !== false;
    if ((mainFrame ? rules.mainFrame : rules.subFrame)(event.url)) return;
    event.preventDefault();
    if (mainFrame) onRefused?.(event.url);
  };
  contents.on('will-navigate', check);
  contents.on('will-frame-navigate', check);
  contents.on('will-redirect', check);
}

/** Permission handlers for a remote session: deny unless the policy allows it for the tunnel. */
export function guardPermissions(session: Session, tunnelOrigin: () => string | undefined): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(mayGrantPermission(permission, details.requestingUrl ?? contents?.getURL() ?? '', tunnelOrigin()));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => mayGrantPermission(permission, requestingOrigin, tunnelOrigin()));
  session.setDevicePermissionHandler(() => false);
}
