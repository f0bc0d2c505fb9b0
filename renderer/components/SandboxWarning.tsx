import { reclaim } from '../bridge.js';

/**
 * Shown for as long as the app runs without Chromium's OS sandbox (main then shows no remote
 * page): what is missing, why it matters, and how to get it back.
 */
export function SandboxWarning() {
  if (reclaim.shell.sandboxed) return null;
  return (
    <section className="banner banner-warning" role="alert" aria-label="Sandbox off">
      <p>
        <strong>Reclaim is running without Chromium's sandbox</strong> (it was started with <code>--no-sandbox</code> or
        similar, as the AppImage does on systems that block it). So it shows no web page from your server or plex.tv inside
        its window: use <em>Open in browser</em>, and Plex sign-in opens in your browser. On Linux, install the .deb or .rpm
        package instead, which keeps the sandbox.
      </p>
    </section>
  );
}
