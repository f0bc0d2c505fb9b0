// Chromium's OS sandbox is what `sandbox: true` stands on: without it a page that broke its
// renderer would run with all of the person's rights. It can be switched off from outside
// Reclaim: by --no-sandbox (electron-builder's AppImage launcher adds it wherever the system
// forbids unprivileged user namespaces, as Ubuntu 24.04 does by default), --no-zygote-sandbox
// (the renderers' sandbox on Linux), or ELECTRON_DISABLE_SANDBOX. Reclaim then shows no remote
// page itself (the Plex view, plex.tv sign-in) and says so in its window.

/** The part of Electron's app.commandLine this needs. */
export interface SwitchReader {
  hasSwitch(name: string): boolean;
}

const SANDBOX_OFF_SWITCHES = ['no-sandbox', 'no-zygote-sandbox'] as const;

/** Why this process runs without Chromium's sandbox, or undefined when it has it. */
export function sandboxOffBecause(commandLine: SwitchReader, env: NodeJS.ProcessEnv): string | undefined {
  const flag = SANDBOX_OFF_SWITCHES.find((name) => commandLine.hasSwitch(name));
  if (flag) return `it was started with --${flag}`;
  if (env.ELECTRON_DISABLE_SANDBOX !== undefined) return 'ELECTRON_DISABLE_SANDBOX is set';
  return undefined;
}
