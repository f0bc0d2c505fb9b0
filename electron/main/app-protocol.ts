import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { net, protocol } from 'electron';

// Reclaim's own page is served from app://reclaim/, not file:// (security checklist item 18): a
// file:// page is treated as able to read other local files, an app:// page sees only the
// renderer's own folder, and nothing outside it can be named, however the URL is spelled.

export const APP_SCHEME = 'app';
export const APP_HOST = 'reclaim';
export const APP_ENTRY = `${APP_SCHEME}://${APP_HOST}/index.html`;

export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** The file an app:// address names inside `root`, or undefined for anything outside it. */
export function appFileFor(url: string, root: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.posix.normalize(`/${relative}`)}`);
  return file.startsWith(base + path.sep) ? file : undefined;
}

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveAppFiles(root: string): void {
  protocol.handle(APP_SCHEME, (request) => {
    const file = appFileFor(request.url, root);
    return file ? net.fetch(pathToFileURL(file).toString()) : new Response('Not found', { status: 404 });
  });
}
