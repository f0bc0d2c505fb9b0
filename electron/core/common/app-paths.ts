import os from 'node:os';
import path from 'node:path';

// Where Reclaim keeps its own files (its known_hosts, its Plex client identifier, its log). The folder
// matches Electron's userData for productName "Reclaim", so the CLI and the desktop app share
// what they have learnt. RECLAIM_HOME overrides it (tests, portable installs).

export function reclaimDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.RECLAIM_HOME) return env.RECLAIM_HOME;
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Reclaim');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Reclaim');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Reclaim');
}

export function reclaimKnownHostsFile(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  return path.join(reclaimDataDir(env, platform), 'known_hosts');
}

/** The log the app and the CLI both write (and rotate to reclaim.log.1). */
export function reclaimLogFile(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  return path.join(reclaimDataDir(env, platform), 'reclaim.log');
}

/** The user's own OpenSSH known_hosts files: read, never written. */
export function userKnownHostsFiles(home = os.homedir()): string[] {
  return [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')];
}
