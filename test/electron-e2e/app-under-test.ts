import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';

// Which Reclaim the Electron tests drive, and how they start it. CI only: none of these exist on
// machines that cannot download Electron.
//
// Which app: RECLAIM_E2E_APP (an executable: CI points it at the app as installed from the test
// build's installer), else Forge's test build in out/e2e/Reclaim-<platform>-<arch>
// (`RECLAIM_E2E=1 npm run package`), else the Electron binary from node_modules/electron on
// .vite/build/main.cjs.

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'electron-e2e');

export interface AppUnderTest {
  executablePath: string;
  args: string[];
  /** A packaged app, whose fuses are checked too. */
  packaged: boolean;
}

function packagedExecutable(): string {
  const dir = path.join(ROOT, 'out', 'e2e', `Reclaim-${process.platform}-${process.arch}`);
  if (process.platform === 'darwin') return path.join(dir, 'Reclaim.app', 'Contents', 'MacOS', 'reclaim');
  return path.join(dir, process.platform === 'win32' ? 'reclaim.exe' : 'reclaim');
}

function appUnderTest(): AppUnderTest {
  const chosen = process.env.RECLAIM_E2E_APP;
  if (chosen) return { executablePath: path.resolve(chosen), args: [], packaged: true };
  const packaged = packagedExecutable();
  if (existsSync(packaged)) return { executablePath: packaged, args: [], packaged: true };
  // Never require('electron') here: with the binary missing, that starts a download.
  const electronDir = path.join(ROOT, 'node_modules', 'electron');
  const pathFile = path.join(electronDir, 'path.txt');
  const binary = existsSync(pathFile) ? path.join(electronDir, 'dist', readFileSync(pathFile, 'utf8')) : undefined;
  if (!binary || !existsSync(binary)) {
    throw new Error(`No app to test: neither ${packaged} (RECLAIM_E2E=1 npm run package) nor the Electron binary (npx --no install-electron).`);
  }
  if (!existsSync(path.join(ROOT, '.vite', 'build', 'main.cjs'))) throw new Error('The Electron binary needs .vite/build/main.cjs: run npm run package (or npm start) first.');
  return { executablePath: binary, args: [ROOT], packaged: false };
}

export const APP = appUnderTest();

/**
 * Starts the app with a fresh Reclaim folder (and on Linux a fresh home) and no SSH agent, and
 * waits for its window. `withoutSandbox` starts it the way the AppImage launcher does where user
 * namespaces are blocked.
 */
export async function launchApp(home: string, options: { withoutSandbox?: boolean } = {}): Promise<{ electronApp: ElectronApplication; page: Page }> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  env.RECLAIM_HOME = path.join(home, 'reclaim');
  delete env.SSH_AUTH_SOCK;
  // On Linux also a fresh home, so the runner's ~/.ssh and Electron's userData stay out of it.
  if (process.platform === 'linux') env.HOME = home;
  const electronApp = await _electron.launch({
    executablePath: APP.executablePath,
    args: [...(options.withoutSandbox ? ['--no-sandbox'] : []), ...APP.args],
    cwd: ROOT,
    env,
    // Chromium's sandbox stays on, as people get it: on Ubuntu 24.04 CI tests the app installed
    // from its .deb, whose AppArmor profile lets it use user namespaces. Root cannot use it at all.
    chromiumSandbox: !options.withoutSandbox && process.platform === 'linux' && process.getuid?.() !== 0,
    timeout: 60_000,
  });
  const output = (prefix: string) => (chunk: Buffer) => process.stderr.write(chunk.toString().replace(/^(?=.)/gm, prefix));
  electronApp.process().stdout?.on('data', output('[app] '));
  electronApp.process().stderr?.on('data', output('[app] '));
  const page = await electronApp.firstWindow();
  await page.getByRole('heading', { name: 'Get back into your Plex server' }).waitFor();
  return { electronApp, page };
}
