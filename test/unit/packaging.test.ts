import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { afterEach, describe, expect, it, vi } from 'vitest';

// What the packaged app is built with, read from forge.config.ts itself: the fuses Electron's
// binary gets flipped to (the smoke test reads them back from the packaged binary, in CI).

interface FusesPluginLike {
  name: string;
  fusesConfig: Record<string, unknown>;
}

const savedE2e = process.env.RECLAIM_E2E;

afterEach(() => {
  if (savedE2e === undefined) delete process.env.RECLAIM_E2E;
  else process.env.RECLAIM_E2E = savedE2e;
});

/** forge.config.ts as Forge loads it, for a release build or the smoke test's build. */
async function fusesOf(build: 'release' | 'e2e'): Promise<Record<string, unknown>> {
  if (build === 'e2e') process.env.RECLAIM_E2E = '1';
  else delete process.env.RECLAIM_E2E;
  vi.resetModules();
  const config = (await import('../../forge.config.js')).default;
  const plugin = (config.plugins ?? []).find((one) => (one as unknown as FusesPluginLike).name === 'fuses') as unknown as FusesPluginLike | undefined;
  if (!plugin) throw new Error('forge.config.ts has no fuses plugin');
  return plugin.fusesConfig;
}

const RELEASE_FUSES = {
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  [FuseV1Options.WasmTrapHandlers]: true,
};

describe('the fuses of the packaged app', () => {
  it('turns off every way to drive the binary as Node, and file:// extra privileges, in a release build', async () => {
    expect(await fusesOf('release')).toEqual({ version: FuseVersion.V1, strictlyRequireAllFuses: true, ...RELEASE_FUSES });
  });

  it('decides every fuse Electron has, so a new one cannot ship unread', async () => {
    const fuses = await fusesOf('release');
    const every = Object.values(FuseV1Options).filter((value) => typeof value === 'number');
    expect(every.filter((fuse) => typeof fuses[fuse] !== 'boolean')).toEqual([]);
  });

  it('differs in the smoke test build by the inspector fuse alone, which Playwright needs', async () => {
    expect(await fusesOf('e2e')).toEqual({
      version: FuseVersion.V1,
      strictlyRequireAllFuses: true,
      ...RELEASE_FUSES,
      [FuseV1Options.EnableNodeCliInspectArguments]: true,
    });
  });
});
