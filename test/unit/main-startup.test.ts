import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SANDBOX_OFF_ARGUMENT } from '../../electron/shared/ipc-contract.js';
import type * as electron from '../fakes/electron.js';

// electron/main/main.ts started the ways a person can start the app: `reclaim --version`, and
// with Chromium's sandbox switched off from outside (the AppImage launcher's --no-sandbox).
// Each test loads main.ts afresh against a fresh fake.

let home: string;
const savedHome = process.env.RECLAIM_HOME;
const savedArgv = [...process.argv];

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-main-start-'));
  process.env.RECLAIM_HOME = home;
  Object.assign(globalThis, { MAIN_WINDOW_VITE_DEV_SERVER_URL: undefined, MAIN_WINDOW_VITE_NAME: 'main_window' });
  vi.resetModules();
});

afterEach(async () => {
  process.argv.splice(0, process.argv.length, ...savedArgv);
  vi.restoreAllMocks();
  if (savedHome === undefined) delete process.env.RECLAIM_HOME;
  else process.env.RECLAIM_HOME = savedHome;
  await rm(home, { recursive: true, force: true });
});

/** main.ts as Electron runs it, with the fake that this fresh module graph sees (set up first). */
async function startMain(setUp: (fake: typeof electron) => void = () => {}): Promise<typeof electron> {
  const fake = await import('../fakes/electron.js');
  setUp(fake);
  await import('../../electron/main/main.js');
  return fake;
}

describe('reclaim --version', () => {
  it('prints the version and exits without opening a window', async () => {
    process.argv.push('--version');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const fake = await startMain();
    expect(printed).toEqual(['Reclaim 0.0.0-fake\n']);
    expect(fake.app.exitCode).toBe(0);
    expect(fake.BrowserWindow.instances).toEqual([]);
  });
});

describe("started without Chromium's sandbox", () => {
  it("tells Reclaim's own page, so it can say so, and warns on the console", async () => {
    const warned: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((message: string) => void warned.push(message));
    const fake = await startMain((fresh) => fresh.app.commandLine.switches.add('no-sandbox'));
    await vi.waitFor(() => {
      if (fake.BrowserWindow.instances[0]?.webContents.getURL() !== 'app://reclaim/index.html') throw new Error('main has not loaded the UI yet');
    }, { timeout: 10_000, interval: 5 });
    expect(fake.BrowserWindow.instances[0]?.options.webPreferences).toMatchObject({ sandbox: true, additionalArguments: [SANDBOX_OFF_ARGUMENT] });
    expect(warned).toEqual([expect.stringContaining('without Chromium\'s sandbox because it was started with --no-sandbox')]);
  });
});
