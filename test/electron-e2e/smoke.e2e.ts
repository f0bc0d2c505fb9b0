import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS } from '../../electron/shared/ipc-contract.js';
import { stopChild } from '../support/child.js';
import { makeKeyPair } from '../support/keys.js';
import { freePort } from '../support/net.js';
import { APP, launchApp, ROOT, SCREENSHOTS } from './app-under-test.js';

// Smoke test of the real desktop app, in the real Electron (CI only; see app-under-test.ts for
// which app): the packaged build's fuses, the main window's lockdown as Electron reports it,
// Chromium's OS sandbox really on for the pages, the bridge and CSP as the page sees them, a
// refused connection shown in the UI, and (on Linux and macOS, where OpenSSH's sshd is at hand) a
// tunnel through a real sshd to the Plex stand-in, with the Plex view loaded through it and its
// video going full screen and back. What only real Electron shows is checked here; the same
// decisions are unit-tested against the Electron fake.

let home: string;
let electronApp: ElectronApplication;
let page: Page;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-e2e-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  ({ electronApp, page } = await launchApp(home));
});

afterAll(async () => {
  await electronApp?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Electron has it (the preferences a page really got), but its typings leave it out. */
type LastPreferences = Electron.WebContents & { getLastWebPreferences(): Electron.WebPreferences | null };

const button = (name: string) => page.getByRole('button', { name, exact: true });

describe('the desktop app', () => {
  it.runIf(APP.packaged)('is packaged with the release fuses, the inspector excepted for this test build', async () => {
    const wire = await getCurrentFuseWire(APP.executablePath);
    expect({
      runAsNode: wire[FuseV1Options.RunAsNode],
      nodeOptions: wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
      fileProtocolExtraPrivileges: wire[FuseV1Options.GrantFileProtocolExtraPrivileges],
      cookieEncryption: wire[FuseV1Options.EnableCookieEncryption],
      asarIntegrity: wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
      onlyAsar: wire[FuseV1Options.OnlyLoadAppFromAsar],
      inspect: wire[FuseV1Options.EnableNodeCliInspectArguments],
    }).toEqual({
      runAsNode: FuseState.DISABLE,
      nodeOptions: FuseState.DISABLE,
      fileProtocolExtraPrivileges: FuseState.DISABLE,
      cookieEncryption: FuseState.ENABLE,
      asarIntegrity: FuseState.ENABLE,
      onlyAsar: FuseState.ENABLE,
      inspect: FuseState.ENABLE,
    });
  });

  it('opens one window that is sandboxed and isolated, without Node, with the preload', async () => {
    const seen = await electronApp.evaluate(({ BrowserWindow }) => {
      const windows = BrowserWindow.getAllWindows();
      const preferences = (windows[0]?.webContents as LastPreferences | undefined)?.getLastWebPreferences();
      return {
        windows: windows.length,
        contextIsolation: preferences?.contextIsolation,
        sandbox: preferences?.sandbox,
        nodeIntegration: preferences?.nodeIntegration,
        nodeIntegrationInSubFrames: preferences?.nodeIntegrationInSubFrames,
        webSecurity: preferences?.webSecurity,
        webviewTag: preferences?.webviewTag,
        preload: typeof preferences?.preload === 'string' ? preferences.preload.split(/[\\/]/).pop() : preferences?.preload,
      };
    });
    expect(seen).toEqual({
      windows: 1,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      preload: 'preload.cjs',
    });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${process.platform}-01-welcome.png`) });
  });

  it("runs the pages in Chromium's OS sandbox, and so warns of nothing", async () => {
    expect(await page.evaluate(() => (window as unknown as { reclaim: { shell: unknown } }).reclaim.shell)).toEqual({ sandboxed: true });
    expect(await page.getByRole('alert', { name: 'Sandbox off' }).count()).toBe(0);
    const pid = await electronApp.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.webContents.getOSProcessId());
    expect(await osSandboxed(pid)).toBe(true);
  });

  it('gives the page window.reclaim with the contract and nothing of Node or Electron', async () => {
    const seen = await page.evaluate(() => {
      const global = window as unknown as Record<string, unknown>;
      const bridge = (global.reclaim ?? {}) as Record<string, unknown>;
      return {
        methods: Object.keys(bridge).sort(),
        allFunctions: Object.entries(bridge).every(([key, value]) => key === 'shell' || typeof value === 'function'),
        require: typeof global.require,
        process: typeof global.process,
        module: typeof global.module,
        Buffer: typeof global.Buffer,
        ipcRenderer: typeof global.ipcRenderer,
      };
    });
    expect(seen).toEqual({
      methods: [...API_METHODS, 'onEvent', 'shell'].sort(),
      allFunctions: true,
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
      Buffer: 'undefined',
      ipcRenderer: 'undefined',
    });
    // Main serves the page: it is recognised as Reclaim's own, top frame of the trusted window.
    const reply = await page.evaluate(() => (window as unknown as { reclaim: { listProfiles(): Promise<unknown> } }).reclaim.listProfiles());
    expect(reply).toEqual({ ok: true, value: [] });
  });

  it('ships the strict Content Security Policy, and the UI runs under it', async () => {
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'none'");
    expect(policy).not.toContain('unsafe-inline');
    // The heading awaited in beforeAll is drawn by the bundled script, so the policy let it run.
    await expect(page.getByRole('heading', { name: 'Get back into your Plex server' }).isVisible()).resolves.toBe(true);
  });

  it('says plainly when nothing answers at the server address', async () => {
    await button('Add your server').click();
    await page.getByLabel('Server address').fill('127.0.0.1');
    await page.getByLabel('SSH port').fill('1');
    await page.getByLabel('User name').fill('nobody');
    await page.getByLabel('Name in Reclaim').fill('Nothing listens here');
    // Any free local port: 8888, the default, may be taken on a shared machine, and that error comes first.
    await page.getByText('Advanced: jump host and ports').click();
    await page.getByLabel('Local port').fill('0');
    await button('Save and connect').click();
    const problem = page.getByRole('alert', { name: 'Could not connect' });
    await problem.waitFor({ timeout: 60_000 });
    expect(await problem.locator('.error-code').textContent()).toBe('Error code: CONNECT_FAILED');
    expect(await problem.locator('.error-message').textContent()).toContain('nothing accepts SSH connections on port 1');
    await page.screenshot({ path: path.join(SCREENSHOTS, `${process.platform}-02-could-not-connect.png`) });
  });

  // OpenSSH's sshd ships with Linux runners (installed by CI) and with macOS; Windows has none to start.
  it.runIf(process.platform !== 'win32')('reaches Plex on a server through an SSH tunnel and shows it in the Plex view', async () => {
    const server = await startServer(home);
    try {
      await button('Add server').click();
      await page.getByLabel('Server address').fill('127.0.0.1');
      await page.getByLabel('SSH port').fill(String(server.sshPort));
      await page.getByLabel('User name').fill(os.userInfo().username);
      await page.getByLabel('Name in Reclaim').fill('Test server');
      await page.getByRole('radio', { name: /^Key file/ }).check();
      await page.getByLabel('Private key file', { exact: true }).fill(server.clientKey);
      await page.getByText('Advanced: jump host and ports').click();
      await page.getByLabel('Local port').fill('0');
      await page.getByLabel('Plex on the server').fill(`127.0.0.1:${server.plexPort}`);
      await button('Save and connect').click();

      const dialog = page.getByRole('dialog', { name: 'Is this really your server?' });
      await dialog.waitFor({ timeout: 60_000 });
      expect(await dialog.locator('.fingerprint').textContent()).toBe(server.hostKeyFingerprint);
      await dialog.getByRole('button', { name: 'It matches: trust and connect' }).click();

      const status = page.locator('.status-card');
      await status.getByText('No: not linked to any Plex account').waitFor({ timeout: 60_000 });
      expect(await status.textContent()).toContain('E2E Plex');
      const webUrl = (await status.locator('code').first().textContent()) ?? '';
      expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/web$/);
      // The tunnel is real: this process reaches the server's Plex through it too.
      const identity = await (await fetch(new URL('/identity', webUrl))).text();
      expect(identity).toContain(server.machineIdentifier);

      // Main shows the server's Plex Web App over the page, locked down, without the bridge.
      await expect.poll(() => plexViewUrls(), { timeout: 30_000 }).toContain(webUrl);
      const view = await electronApp.evaluate(async ({ BrowserWindow }, url) => {
        const window = BrowserWindow.getAllWindows()[0];
        const child = window?.contentView.children.find((one) => 'webContents' in one && (one as Electron.WebContentsView).webContents.getURL() === url);
        const contents = (child as Electron.WebContentsView | undefined)?.webContents;
        if (!contents) return undefined;
        const preferences = (contents as unknown as LastPreferences).getLastWebPreferences();
        return {
          sandbox: preferences?.sandbox,
          contextIsolation: preferences?.contextIsolation,
          nodeIntegration: preferences?.nodeIntegration,
          preload: preferences?.preload ?? null,
          trustedSender: contents.id === window?.webContents.id,
          bridge: await contents.executeJavaScript('typeof window.reclaim'),
          text: await contents.executeJavaScript('document.body.innerText'),
        };
      }, webUrl);
      expect(view).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, preload: null, trustedSender: false, bridge: 'undefined' });
      expect(view?.text).toContain('This server is unclaimed');
      const viewPid = await electronApp.evaluate(({ BrowserWindow }, url) => {
        const child = BrowserWindow.getAllWindows()[0]?.contentView.children.find((one) => 'webContents' in one && (one as Electron.WebContentsView).webContents.getURL() === url);
        return (child as Electron.WebContentsView).webContents.getOSProcessId();
      }, webUrl);
      expect(await osSandboxed(viewPid)).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${process.platform}-03-connected.png`) });

      // Plex Web's full screen (video) makes the view cover the window, and Esc brings it back.
      const boxed = await plexView(webUrl);
      await inPlexView(webUrl, 'document.documentElement.requestFullscreen()');
      await expect.poll(async () => {
        const { bounds, content } = await plexView(webUrl);
        return bounds.x === 0 && bounds.y === 0 && bounds.width === content[0] && bounds.height === content[1];
      }, { timeout: 30_000 }).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${process.platform}-04-full-screen.png`) });
      await inPlexView(webUrl, 'document.exitFullscreen()');
      await expect.poll(async () => (await plexView(webUrl)).bounds, { timeout: 30_000 }).toEqual(boxed.bounds);
    } finally {
      await server.stop();
    }
  });
});

/** The Plex view showing `url`: its bounds, and the size of the window's inside. */
async function plexView(url: string): Promise<{ bounds: Electron.Rectangle; content: number[] }> {
  return electronApp.evaluate(({ BrowserWindow }, wanted) => {
    const window = BrowserWindow.getAllWindows()[0]!;
    const view = window.contentView.children.find((one) => 'webContents' in one && (one as Electron.WebContentsView).webContents.getURL() === wanted);
    if (!view) throw new Error(`no Plex view shows ${wanted}`);
    return { bounds: view.getBounds(), content: window.getContentSize() };
  }, url);
}

/** Runs `code` in the Plex view as if the person had just clicked (full screen needs a gesture). */
async function inPlexView(url: string, code: string): Promise<void> {
  await electronApp.evaluate(async ({ BrowserWindow }, [wanted, script]) => {
    const view = BrowserWindow.getAllWindows()[0]!.contentView.children.find((one) => 'webContents' in one && (one as Electron.WebContentsView).webContents.getURL() === wanted);
    await (view as Electron.WebContentsView).webContents.executeJavaScript(script!, true);
  }, [url, code]);
}

/**
 * Whether the OS sandbox confines process `pid`: on Linux, Chromium's seccomp-bpf filter shows in
 * /proc (Seccomp: 2); on macOS and Windows Electron reports it in the process metrics.
 */
async function osSandboxed(pid: number): Promise<boolean> {
  if (process.platform === 'linux') return /^Seccomp:\s*2$/m.test(await readFile(`/proc/${pid}/status`, 'utf8'));
  return electronApp.evaluate(({ app }, wanted) => app.getAppMetrics().find((metric) => metric.pid === wanted)?.sandboxed === true, pid);
}

async function plexViewUrls(): Promise<string[]> {
  return electronApp.evaluate(({ BrowserWindow }) =>
    (BrowserWindow.getAllWindows()[0]?.contentView.children ?? [])
      .filter((view) => 'webContents' in view)
      .map((view) => (view as Electron.WebContentsView).webContents.getURL()));
}

interface TestServer {
  sshPort: number;
  plexPort: number;
  clientKey: string;
  hostKeyFingerprint: string;
  machineIdentifier: string;
  stop(): Promise<void>;
}

/** Resolves once `child` prints a line matching `pattern` on stdout or stderr. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`${what} did not start within 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`${what} exited with ${code}:\n${output}`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * "The server": OpenSSH's sshd on 127.0.0.1 with a throwaway host key, letting in only this
 * user with a throwaway client key, and the Plex stand-in on another loopback port as the far
 * end of the tunnel. sshd runs as whoever runs the test (CI's unprivileged runner), which OpenSSH
 * allows for logging in as that same user; as root it needs its privilege separation folder.
 */
async function startServer(base: string): Promise<TestServer> {
  const dir = path.join(base, 'server');
  await mkdir(dir, { recursive: true });
  const hostKey = await makeKeyPair(dir, { type: 'ed25519', name: 'host_ed25519' });
  const clientKey = await makeKeyPair(dir, { type: 'ed25519', name: 'client_ed25519' });
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, `${clientKey.publicLine}\n`);
  await chmod(authorizedKeys, 0o600);
  const [sshPort, plexPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'sshd_config');
  await writeFile(config, [
    `ListenAddress 127.0.0.1:${sshPort}`,
    `HostKey ${hostKey.privatePath}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `AllowUsers ${os.userInfo().username}`,
    'PidFile none',
    'UsePAM no',
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding local',
    'PermitTTY no',
    'X11Forwarding no',
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true });
  // Absolute path: sshd re-executes itself for each connection.
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const machineIdentifier = `reclaim-e2e-${process.pid}`;
  const plexConfig = { port: plexPort, plexTvUrl: 'http://127.0.0.1:9', machineIdentifier, friendlyName: 'E2E Plex' };
  // stdin stays open: the stand-in exits when it closes.
  const plex = spawn(process.execPath, [path.join(ROOT, 'test', 'stand-ins', 'pms-server.mjs'), JSON.stringify(plexConfig)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stop = async () => {
    await Promise.all([stopChild(sshd), stopChild(plex)]);
  };
  try {
    await Promise.all([
      waitForLine(sshd, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${sshPort}`), 'sshd'),
      waitForLine(plex, new RegExp(`^listening ${plexPort}$`, 'm'), 'the Plex stand-in'),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  sshd.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk.toString().replace(/^(?=.)/gm, '[sshd] ')));
  return { sshPort, plexPort, clientKey: clientKey.privatePath, hostKeyFingerprint: hostKey.fingerprint, machineIdentifier, stop };
}
