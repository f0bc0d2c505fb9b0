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
    // The app ships as one app.asar: OnlyLoadAppFromAsar below then refuses a loose app folder
    // put next to the binary, and on macOS and Windows the integrity fuse checks the archive.
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
      // Every fuse is decided here: packaging a newer Electron whose binary has a fuse not listed
      // below fails, instead of shipping that fuse's default unread.
      strictlyRequireAllFuses: true,
      // Reclaim holds SSH keys and passwords: the binary must not double as a general Node
      // runtime (ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect) that other programs can drive.
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: e2eBuild,
      // Reclaim serves its own page from app://reclaim/ and never loads file:// pages, so file://
      // gets none of the extra powers Electron grants it by default (reading other local files).
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
      // Encrypts cookies that Chromium writes to disk. Today that protects nothing: the Plex and
      // sign-in sessions live in memory and Reclaim's own page sets no cookies. It stays on so
      // that a persistent cookie, should one ever appear, is not written in plain text.
      [FuseV1Options.EnableCookieEncryption]: true,
      // Checked on macOS and Windows only (Electron has no asar integrity check on Linux), and
      // only as strong as the binary holding the hash: the builds are not code-signed yet.
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      // Electron's defaults: no separate V8 snapshot for main; V8's WebAssembly trap handlers on.
      [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
      [FuseV1Options.WasmTrapHandlers]: true,
    }),
  ],
};

export default config;
