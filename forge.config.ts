import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

// Forge builds and packages the app (`npm start`, `npm run package`); electron-builder turns the
// packaged folder into installers (build/electron-builder.yml), because Forge has no NSIS or
// AppImage maker. Packaging downloads Electron, so it runs in CI only (see electron.md §3).

// Playwright's _electron drives the app through the Node inspector (--inspect=0); with that fuse
// off, launch hangs until it times out. A test build keeps it on, and goes to its own folder so
// it can never be mistaken for, or shipped as, a release build.
const e2eBuild = process.env.RECLAIM_E2E === '1';

const config: ForgeConfig = {
  outDir: e2eBuild ? 'out/e2e' : 'out',
  packagerConfig: {
    name: 'Reclaim',
    executableName: 'reclaim',
    appBundleId: 'app.reclaim.desktop',
    // The integrity fuse below checks the asar header, and OnlyLoadAppFromAsar refuses a loose
    // app folder, so an attacker cannot swap the code next to a signed binary.
    asar: true,
  },
  makers: [new MakerZIP({})],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
    new FusesPlugin({
      version: FuseVersion.V1,
      // Reclaim holds SSH keys and passwords: the binary must not double as a general Node
      // runtime (ELECTRON_RUN_AS_NODE, NODE_OPTIONS) that other programs can drive.
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: e2eBuild,
      // Plex sign-in cookies in the per-server sessions are encrypted at rest by the OS.
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
