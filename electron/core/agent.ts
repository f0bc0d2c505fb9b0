import fs from 'node:fs';
import os from 'node:os';

// Finding the user's SSH agent the way their other tools do: SSH_AUTH_SOCK first; on Windows,
// the OpenSSH agent's named pipe, then Pageant's pipe (`pageant.<user>.<hash>`, Pageant 0.74+),
// which speaks the same protocol. ssh2's own 'pageant' mode spawns a helper .exe that breaks
// when bundled, so it is never used.

const WINDOWS_PIPES = '\\\\.\\pipe\\';
const OPENSSH_AGENT_PIPE = `${WINDOWS_PIPES}openssh-ssh-agent`;

export function findAgent(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  if (env.SSH_AUTH_SOCK) return env.SSH_AUTH_SOCK;
  if (platform !== 'win32') return undefined;
  if (fs.existsSync(OPENSSH_AGENT_PIPE)) return OPENSSH_AGENT_PIPE;
  return findPageantPipe();
}

function findPageantPipe(): string | undefined {
  let pipes: string[];
  try {
    pipes = fs.readdirSync(WINDOWS_PIPES);
  } catch {
    return undefined;
  }
  const prefix = `pageant.${os.userInfo().username}.`.toLowerCase();
  const pipe = pipes.find((name) => name.toLowerCase().startsWith(prefix));
  return pipe ? WINDOWS_PIPES + pipe : undefined;
}
