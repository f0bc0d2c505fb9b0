import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { AppService } from '../../electron/core/app/app-service.js';
import { routeRequest, isApiMethod } from '../../electron/core/app/request-router.js';
import type { SavedSecret, SecretVault } from '../../electron/core/app/secret-vault.js';
import { openLog } from '../../electron/core/common/log.js';
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { defaultPuttyStorage } from '../../electron/core/ssh/putty/storage.js';
import { API_METHODS, type ReclaimEvent, type ViewBounds } from '../../electron/shared/ipc-contract.js';
import { EventLog } from '../support/events.js';

// Reclaim's built UI in Debian's Chromium, with `window.reclaim` backed by the real core: the
// same AppService and request router main uses, against a real sshd and the Plex stand-ins.
// Only what Electron alone can do is played by this harness: the encrypted vault (in memory),
// the clipboard, the system browser, the sign-in window (recorded; the test approves the PIN),
// and the embedded Plex view, which is drawn from a second page showing the tunnel's /web.

const RENDERER_DIR = path.resolve(import.meta.dirname, '../../.vite/renderer/main_window');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/screenshots');
export const WINDOW = { width: 1280, height: 800 };

export class MemoryVault implements SecretVault {
  readonly secrets = new Map<string, SavedSecret>();
  canSave = async () => true;
  load = async (id: string) => this.secrets.get(id);
  save = async (id: string, saved: SavedSecret) => void this.secrets.set(id, saved);
  forget = async (id: string) => void this.secrets.delete(id);
  has = async (id: string) => this.secrets.has(id);
}

export interface UiOptions {
  home: string;
  knownHostsFile: string;
  plexTvUrl: string;
  sshConfigFile?: string;
  /** PuTTY's folder (what PUTTYDIR names); without it, Import from PuTTY finds nothing. */
  puttyDir?: string;
}

export interface Ui {
  page: Page;
  service: AppService;
  /** Reclaim's log, as the app writes it. */
  logFile: string;
  vault: MemoryVault;
  events: EventLog<ReclaimEvent>;
  signInUrls: EventLog<string>;
  /** What the system's file chooser will answer next (undefined: the person cancels). */
  chooseFileAnswer: string | undefined;
  /** The person closes the sign-in window. */
  closeSignInWindow(): void;
  externalUrls: string[];
  copied: string[];
  /** Resolves once the stand-in for the embedded view has caught up with the last request. */
  viewSettled(): Promise<void>;
  screenshot(state: string): Promise<string>;
  /** A page in another look (dark theme, or 200% zoom: half the CSS pixels at twice the density). */
  openVariant(options: { colorScheme?: 'light' | 'dark'; zoom?: number }): Promise<Page>;
  close(): Promise<void>;
  /** Servers whose Plex view was given keyboard focus. */
  focusedViews: string[];
  /** Every page opened so far (the main one and the variants). */
  pages(): Page[];
}

export async function startUi(options: UiOptions): Promise<Ui> {
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`The built UI is missing (${RENDERER_DIR}). Run: npm run build:renderer`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Debian's Chromium is missing (${CHROMIUM}). Install it: apt-get install chromium`);
  const files = await serveDirectory(RENDERER_DIR);
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
  const events = new EventLog<ReclaimEvent>();
  const signInUrls = new EventLog<string>();
  const externalUrls: string[] = [];
  const copied: string[] = [];
  const vault = new MemoryVault();
  const pages: Page[] = [];
  let signInWindowClosed: (() => void) | undefined;
  const fileChooser: { answer?: string } = {};
  const focusedViews: string[] = [];
  const contexts: BrowserContext[] = [];
  let plexPage: Page | undefined;
  let viewWork: Promise<void> = Promise.resolve();

  // The stand-in for the embedded view: a picture of the tunnel's /web, taken in a page of its
  // own (as the real view is its own page) and laid over the place the UI keeps for it. It is
  // loaded when the address changes and re-taken when the size changes; moves only move it.
  let shown: { webUrl: string; width: number; height: number; picture: string } | undefined;
  let lastRequest: [{ webUrl: string } | null, ViewBounds | null] = [null, null];
  const drawView = async (view: { webUrl: string } | null, bounds: ViewBounds | null) => {
    lastRequest = [view, bounds];
    if (!view) shown = undefined;
    if (!view || !bounds || bounds.width < 2 || bounds.height < 2) {
      await Promise.all(pages.map((page) => page.evaluate(() => document.getElementById('plex-view-stand-in')?.remove()).catch(() => {})));
      return;
    }
    const width = Math.round(bounds.width);
    const height = Math.round(bounds.height);
    if (!shown || shown.webUrl !== view.webUrl || shown.width !== width || shown.height !== height) {
      plexPage ??= await (await browser.newContext()).newPage();
      await plexPage.setViewportSize({ width, height });
      if (shown?.webUrl !== view.webUrl) await plexPage.goto(view.webUrl, { timeout: 5_000 });
      shown = { webUrl: view.webUrl, width, height, picture: (await plexPage.screenshot()).toString('base64') };
    }
    const { picture } = shown;
    await Promise.all(pages.map((page) => page.evaluate(({ picture, bounds, webUrl }) => {
      let image = document.getElementById('plex-view-stand-in') as HTMLImageElement | null;
      if (!image) {
        image = document.createElement('img');
        image.id = 'plex-view-stand-in';
        image.alt = 'Plex Web App';
        document.body.append(image);
      }
      image.dataset.url = webUrl;
      if (image.src !== `data:image/png;base64,${picture}`) image.src = `data:image/png;base64,${picture}`;
      Object.assign(image.style, { position: 'fixed', left: `${bounds.x}px`, top: `${bounds.y}px`, width: `${bounds.width}px`, height: `${bounds.height}px` });
    }, { picture, bounds, webUrl: view.webUrl }).catch(() => {})));
  };

  // As main does first thing: the log that Copy report quotes from.
  const logFile = path.join(options.home, 'reclaim-data', 'reclaim.log');
  openLog({ file: logFile, source: 'app' });
  const service = new AppService({
    emit: (event) => {
      events.push(event);
      for (const page of pages) void page.evaluate((event) => (window as unknown as { __reclaimEmit(e: unknown): void }).__reclaimEmit(event), event).catch(() => {});
    },
    profilesFile: path.join(options.home, 'servers.json'),
    hostKeys: { trustFiles: [options.knownHostsFile], recordFile: options.knownHostsFile },
    plexTvUrl: options.plexTvUrl,
    plexHeaders: plexHeaders('reclaim-ui-test-0000-0000-000000000000'),
    findAgent: () => undefined,
    sshConfig: { configFile: options.sshConfigFile ?? path.join(options.home, 'no-ssh-config'), homeDir: options.home },
    putty: options.puttyDir ? defaultPuttyStorage('linux', { PUTTYDIR: options.puttyDir }, options.home) : undefined,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    host: {
      vault,
      openExternal: async (url) => void externalUrls.push(url),
      openSignInWindow: (url, onClosedByPerson) => {
        signInUrls.push(url);
        signInWindowClosed = onClosedByPerson;
        return () => {
          signInWindowClosed = undefined;
        };
      },
      copyText: (text) => void copied.push(text),
      chooseFile: async () => fileChooser.answer,
      showPlexView: (view, bounds) => {
        // A failed picture (the link is down) leaves the last one showing, as a stalled view would.
        viewWork = viewWork.then(() => drawView(view, bounds)).catch(() => {});
      },
      focusPlexView: (profileId) => void focusedViews.push(profileId),
      closePlexView: () => {
        viewWork = viewWork.then(() => drawView(null, null)).catch(() => {});
      },
    },
  });

  const openPage = async (contextOptions: Parameters<Browser['newContext']>[0]) => {
    const context = await browser.newContext(contextOptions);
    contexts.push(context);
    const page = await context.newPage();
    // The same shape the preload exposes: one function per contract method, onEvent and the shell facts.
    await page.exposeFunction('__reclaimRequest', (method: unknown, args: unknown[]) => {
      if (!isApiMethod(method)) return { ok: false, error: { code: 'BAD_INPUT', message: 'unknown request', fix: '' } };
      return routeRequest(service, method, args);
    });
    await page.addInitScript((methods: string[]) => {
      const listeners = new Set<(event: unknown) => void>();
      const call = (window as unknown as { __reclaimRequest(method: string, args: unknown[]): Promise<unknown> }).__reclaimRequest;
      const bridge: Record<string, unknown> = Object.fromEntries(methods.map((method) => [method, (...args: unknown[]) => call(method, args)]));
      bridge.onEvent = (listener: (event: unknown) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      };
      // Chromium's sandbox is on here, as in a normal start of the app.
      bridge.shell = Object.freeze({ sandboxed: true });
      Object.assign(window, { reclaim: Object.freeze(bridge), __reclaimEmit: (event: unknown) => listeners.forEach((listener) => listener(event)) });
    }, API_METHODS);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    (page as Page & { problems: string[] }).problems = problems;
    pages.push(page);
    await page.goto(files.url);
    return page;
  };

  const page = await openPage({ viewport: WINDOW, colorScheme: 'light' });
  await mkdir(SCREENSHOT_DIR, { recursive: true });

  return {
    page,
    service,
    logFile,
    vault,
    events,
    signInUrls,
    get chooseFileAnswer() {
      return fileChooser.answer;
    },
    set chooseFileAnswer(path: string | undefined) {
      fileChooser.answer = path;
    },
    closeSignInWindow: () => signInWindowClosed?.(),
    externalUrls,
    copied,
    viewSettled: async () => {
      for (let round = 0; round < 20; round++) {
        const pending = viewWork;
        await pending;
        if (pending === viewWork) return;
      }
    },
    async screenshot(state) {
      // The real view is live; the stand-in's picture is retaken so the screenshot is current.
      if (plexPage && shown && lastRequest[0]) {
        shown = undefined;
        const [view, bounds] = lastRequest;
        viewWork = viewWork.then(() => drawView(view, bounds)).catch(() => {});
        await viewWork;
      }
      const file = path.join(SCREENSHOT_DIR, `${state}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async openVariant({ colorScheme = 'light', zoom = 1 }) {
      return openPage({ viewport: { width: WINDOW.width / zoom, height: WINDOW.height / zoom }, deviceScaleFactor: zoom, colorScheme });
    },
    async close() {
      await service.shutdown();
      await browser.close();
      await files.close();
    },
    pages: () => pages,
    focusedViews,
  };
}

/** The dialog asking for sudo's password of `user` on the server saved as `server`. */
export function sudoDialog(page: Page, user: string, server: string): Locator {
  return page.getByRole('dialog', { name: `sudo password for ${user} on ${server}` });
}

/** Answers that dialog as a person would, and waits for it to close. */
export async function answerSudo(page: Page, question: { user: string; server: string; password: string }): Promise<void> {
  const dialog = sudoDialog(page, question.user, question.server);
  await dialog.waitFor();
  await dialog.getByLabel('sudo password', { exact: true }).fill(question.password);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Problems the page reported (uncaught errors, console errors, CSP violations). */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

async function serveDirectory(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (request, response) => {
    const wanted = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = path.join(root, wanted === '/' ? 'index.html' : wanted);
    if (!file.startsWith(root + path.sep)) return response.writeHead(403).end();
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
