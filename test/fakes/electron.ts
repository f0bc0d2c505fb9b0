// A stand-in for the `electron` module in unit tests: vitest.config.ts aliases `electron` to this
// file, because importing the real package tries to download the Electron binary (electron.md
// §0.3). It only records what the code under test asked Electron for (handlers, window options,
// listeners, calls); tests read those records through the same imports. It decides nothing.

import type { SafeStorage } from 'electron';

type Listener = (...args: any[]) => unknown;

export class FakeEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(name: string, listener: Listener): this {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return this;
  }

  once(name: string, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.removeListener(name, wrapper);
      return listener(...args);
    };
    return this.on(name, wrapper);
  }

  removeListener(name: string, listener: Listener): this {
    this.listeners.set(name, (this.listeners.get(name) ?? []).filter((one) => one !== listener));
    return this;
  }

  off(name: string, listener: Listener): this {
    return this.removeListener(name, listener);
  }

  emit(name: string, ...args: unknown[]): boolean {
    const listeners = this.listeners.get(name) ?? [];
    for (const listener of listeners) listener(...args);
    return listeners.length > 0;
  }

  listenerCount(name: string): number {
    return this.listeners.get(name)?.length ?? 0;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }
}

/** A navigation event as Electron passes it to will-navigate and friends (of the main frame unless said). */
export function navigationEvent(url: string, isMainFrame = true): { url: string; isMainFrame: boolean; defaultPrevented: boolean; preventDefault(): void } {
  return {
    url,
    isMainFrame,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

type PermissionRequestHandler = (contents: FakeWebContents | null, permission: string, callback: (granted: boolean) => void, details: { requestingUrl?: string }) => void;
type PermissionCheckHandler = (contents: FakeWebContents | null, permission: string, requestingOrigin: string, details: unknown) => boolean;

export class FakeSession {
  permissionRequestHandler: PermissionRequestHandler | null = null;
  permissionCheckHandler: PermissionCheckHandler | null = null;
  devicePermissionHandler: ((details: unknown) => boolean) | null = null;

  constructor(readonly partition: string) {}

  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.permissionCheckHandler = handler;
  }

  setDevicePermissionHandler(handler: ((details: unknown) => boolean) | null): void {
    this.devicePermissionHandler = handler;
  }
}

const sessions = new Map<string, FakeSession>();

export const session = {
  fromPartition(partition: string): FakeSession {
    let found = sessions.get(partition);
    if (!found) {
      found = new FakeSession(partition);
      sessions.set(partition, found);
    }
    return found;
  },
  get defaultSession(): FakeSession {
    return session.fromPartition('');
  },
};

type WindowOpenHandler = (details: { url: string; disposition: string; frameName?: string; features?: string }) => unknown;

let nextWebContentsId = 1;

export class FakeWebContents extends FakeEmitter {
  readonly id = nextWebContentsId++;
  url = '';
  loadedFile: string | undefined;
  destroyed = false;
  windowOpenHandler: WindowOpenHandler | null = null;
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];

  constructor(readonly session: FakeSession) {
    super();
  }

  loadURL(url: string): Promise<void> {
    this.url = url;
    return Promise.resolve();
  }

  loadFile(file: string): Promise<void> {
    this.loadedFile = file;
    return Promise.resolve();
  }

  getURL(): string {
    return this.url;
  }

  focused = false;
  focus(): void {
    this.focused = true;
  }

  zoomFactor = 1;
  getZoomFactor(): number {
    return this.zoomFactor;
  }

  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }

  close(): void {
    this.destroyed = true;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

interface FakeWebPreferences {
  partition?: string;
  [key: string]: unknown;
}

function webContentsFor(webPreferences: FakeWebPreferences | undefined): FakeWebContents {
  return new FakeWebContents(session.fromPartition(webPreferences?.partition ?? ''));
}

export class FakeView {
  bounds: { x: number; y: number; width: number; height: number } | undefined;
  setBounds(bounds: { x: number; y: number; width: number; height: number }): void {
    this.bounds = bounds;
  }
}

export class FakeContentView extends FakeView {
  readonly children: FakeView[] = [];

  addChildView(view: FakeView): void {
    if (!this.children.includes(view)) this.children.push(view);
  }

  removeChildView(view: FakeView): void {
    const at = this.children.indexOf(view);
    if (at >= 0) this.children.splice(at, 1);
  }
}

export class WebContentsView extends FakeView {
  static readonly instances: WebContentsView[] = [];
  readonly webContents: FakeWebContents;

  constructor(readonly options: { webPreferences?: FakeWebPreferences } = {}) {
    super();
    this.webContents = webContentsFor(options.webPreferences);
    WebContentsView.instances.push(this);
  }
}

export class BrowserWindow extends FakeEmitter {
  static readonly instances: BrowserWindow[] = [];
  private readonly contents: FakeWebContents;
  private readonly view = new FakeContentView();
  destroyed = false;
  shown = false;
  /** The size of the window's inside; a test changes it and emits 'resize', as a real window would. */
  contentSize: [number, number];

  constructor(readonly options: { webPreferences?: FakeWebPreferences; width?: number; height?: number; [key: string]: unknown } = {}) {
    super();
    this.contents = webContentsFor(options.webPreferences);
    this.contentSize = [options.width ?? 800, options.height ?? 600];
    BrowserWindow.instances.push(this);
  }

  getContentSize(): number[] {
    return [...this.alive(this.contentSize)];
  }

  // Like Electron: a closed window's parts are gone, and touching them throws.
  get webContents(): FakeWebContents {
    return this.alive(this.contents);
  }

  get contentView(): FakeContentView {
    return this.alive(this.view);
  }

  private alive<T>(part: T): T {
    if (this.destroyed) throw new TypeError('Object has been destroyed');
    return part;
  }

  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.instances.filter((window) => !window.destroyed);
  }

  loadURL(url: string): Promise<void> {
    return this.webContents.loadURL(url);
  }

  loadFile(file: string): Promise<void> {
    return this.webContents.loadFile(file);
  }

  show(): void {
    this.shown = true;
  }

  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.contents.close();
    this.emit('closed');
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

type InvokeHandler = (event: unknown, ...args: unknown[]) => unknown;

export const ipcMain = {
  handlers: new Map<string, InvokeHandler>(),
  handle(channel: string, handler: InvokeHandler): void {
    // Electron refuses a second handler for a channel; so does the fake, to catch double registration.
    if (ipcMain.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    ipcMain.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    ipcMain.handlers.delete(channel);
  },
};

class FakeIpcRenderer extends FakeEmitter {
  readonly invocations: Array<{ channel: string; args: unknown[] }> = [];

  /** Resolves with what was asked, so a test can see a reply come back through the bridge. */
  invoke(channel: string, ...args: unknown[]): Promise<{ channel: string; args: unknown[] }> {
    this.invocations.push({ channel, args });
    return Promise.resolve({ channel, args });
  }
}

export const ipcRenderer = new FakeIpcRenderer();

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    contextBridge.exposed.set(key, api);
  },
};

export const shell = {
  opened: [] as string[],
  openExternal(url: string): Promise<void> {
    shell.opened.push(url);
    return Promise.resolve();
  },
};

export const clipboard = {
  text: '',
  writeText(text: string): void {
    clipboard.text = text;
  },
};

type StorageBackend = ReturnType<SafeStorage['getSelectedStorageBackend']>;

/**
 * safeStorage's asynchronous API (the synchronous one is deprecated in Electron 45), with
 * reversible "encryption" so a vault test can tell sealed text from plain text. A seal names the
 * key version that made it: after a test raises `keyVersion` (the OS rotated its key), an older
 * seal still opens but asks to be re-encrypted; a newer or foreign one does not open. A test can
 * hook the start of an encryption or decryption, to hold it and act while it is under way.
 */
export const safeStorage = {
  available: true,
  backend: 'gnome_libsecret' as StorageBackend,
  keyVersion: 1,
  beforeEncrypt: undefined as (() => Promise<void>) | undefined,
  beforeDecrypt: undefined as (() => Promise<void>) | undefined,
  isAsyncEncryptionAvailable: (): Promise<boolean> => Promise.resolve(safeStorage.available),
  getSelectedStorageBackend: (): StorageBackend => safeStorage.backend,
  async encryptStringAsync(plainText: string): Promise<Buffer> {
    await safeStorage.beforeEncrypt?.();
    if (!safeStorage.available) throw new Error('Encryption is not available.');
    return Buffer.from(`sealed-v${safeStorage.keyVersion}:${Buffer.from(plainText).toString('base64')}`);
  },
  async decryptStringAsync(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }> {
    await safeStorage.beforeDecrypt?.();
    const seal = /^sealed-v(\d+):(.*)$/s.exec(encrypted.toString());
    const version = Number(seal?.[1]);
    if (!safeStorage.available || !seal || version > safeStorage.keyVersion) {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptStringAsync.');
    }
    return { result: Buffer.from(seal[2]!, 'base64').toString(), shouldReEncrypt: version < safeStorage.keyVersion };
  },
  // Checked against electron.d.ts; the settings above are the test's own.
} satisfies Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'getSelectedStorageBackend' | 'encryptStringAsync' | 'decryptStringAsync'> & Record<string, unknown>;

export const powerMonitor = new FakeEmitter();

/**
 * The file chooser answers what a test put in `answer` (undefined: the person cancels). Message
 * boxes are recorded, and answered by `respond`, a test's stand-in for the person's click.
 */
export const dialog = {
  answer: undefined as string | undefined,
  showOpenDialog(): Promise<{ canceled: boolean; filePaths: string[] }> {
    return Promise.resolve(dialog.answer === undefined ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [dialog.answer] });
  },
  messageBoxes: [] as Array<{ window: unknown; options: { message: string; detail?: string; buttons?: string[] }; respond(response: number): void }>,
  showMessageBox(window: unknown, options: { message: string; detail?: string; buttons?: string[] }): Promise<{ response: number; checkboxChecked: boolean }> {
    return new Promise((resolve) => {
      dialog.messageBoxes.push({ window, options, respond: (response) => resolve({ response, checkboxChecked: false }) });
    });
  },
};

/** Records the privileged schemes and the handler, so a test can ask it for URLs. */
export const protocol = {
  privileged: [] as unknown[],
  handlers: new Map<string, (request: { url: string }) => Response | Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    protocol.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: { url: string }) => Response | Promise<Response>): void {
    protocol.handlers.set(scheme, handler);
  },
};

/** net.fetch of a file:// URL answers with the path it was asked for, which is what tests check. */
export const net = {
  fetched: [] as string[],
  fetch(url: string): Promise<Response> {
    net.fetched.push(url);
    return Promise.resolve(new Response(url));
  },
};

/** Chromium's command line as main reads it; a test adds switches before main starts. */
class FakeCommandLine {
  readonly switches = new Set<string>();
  hasSwitch(name: string): boolean {
    return this.switches.has(name);
  }
}

class FakeApp extends FakeEmitter {
  quitCalls = 0;
  exitCode: number | undefined;
  readonly commandLine = new FakeCommandLine();
  getVersion(): string {
    return '0.0.0-fake';
  }
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  quit(): void {
    this.quitCalls++;
  }
  exit(code = 0): void {
    this.quitCalls++;
    this.exitCode = code;
  }
  getPath(name: string): string {
    return `/fake-electron/${name}`;
  }
}

export const app = new FakeApp();

/** Forget everything recorded, for a test that starts from a fresh Electron. */
export function resetElectronFake(): void {
  ipcMain.handlers.clear();
  ipcRenderer.invocations.length = 0;
  ipcRenderer.removeAllListeners();
  app.removeAllListeners();
  app.commandLine.switches.clear();
  app.quitCalls = 0;
  app.exitCode = undefined;
  dialog.messageBoxes.length = 0;
  contextBridge.exposed.clear();
  shell.opened.length = 0;
  protocol.privileged.length = 0;
  protocol.handlers.clear();
  net.fetched.length = 0;
  clipboard.text = '';
  safeStorage.available = true;
  safeStorage.backend = 'gnome_libsecret';
  safeStorage.keyVersion = 1;
  safeStorage.beforeEncrypt = undefined;
  safeStorage.beforeDecrypt = undefined;
  sessions.clear();
  BrowserWindow.instances.length = 0;
  WebContentsView.instances.length = 0;
}

export default {
  app,
  BrowserWindow,
  WebContentsView,
  clipboard,
  contextBridge,
  ipcMain,
  ipcRenderer,
  safeStorage,
  session,
  shell,
};
