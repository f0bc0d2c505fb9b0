import fs from 'node:fs';
import os from 'node:os';

// Finding the user's SSH agent the way their other tools do: SSH_AUTH_SOCK first; on Windows,
// the OpenSSH agent's named pipe, then Pageant's pipe (`pageant.<user>.<hash>`, Pageant 0.74+),
// which speaks the same protocol. ssh2's own 'pageant' mode spawns a helper .exe that breaks
// when bundled, so it is never used.

const WINDOWS_PIPES = '\\\\.\\pipe\\';
const OPENSSH_AGENT_PIPE = `${WINDOWS_PIPES}openssh-ssh-agent`;

/** How named pipes are seen; the real one reads \\.\pipe\, tests pass their own. */
export interface PipeDirectory {
  exists(path: string): boolean;
  list(): string[];
}

const windowsPipes: PipeDirectory = {
  exists: (path) => fs.existsSync(path),
  list: () => {
    try {
      return fs.readdirSync(WINDOWS_PIPES);
    } catch {
      return [];
    }
  },
};

export function findAgent(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  pipes: PipeDirectory = windowsPipes,
  user: string = os.userInfo().username,
): string | undefined {
  if (env.SSH_AUTH_SOCK) return env.SSH_AUTH_SOCK;
  if (platform !== 'win32') return undefined;
  if (pipes.exists(OPENSSH_AGENT_PIPE)) return OPENSSH_AGENT_PIPE;
  const prefix = `pageant.${user}.`.toLowerCase();
  const pageant = pipes.list().find((name) => name.toLowerCase().startsWith(prefix));
  return pageant ? WINDOWS_PIPES + pageant : undefined;
}
