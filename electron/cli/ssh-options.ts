import { findAgent } from '../core/ssh/agent.js';
import { reclaimKnownHostsFile, userKnownHostsFiles } from '../core/common/app-paths.js';
import { checkIdentityFile } from '../core/ssh/auth.js';
import { badInput } from '../core/common/errors.js';
import { checkKnownHostsFile } from '../core/ssh/host-keys/known-hosts.js';
import { quoteInput } from '../core/common/quote-input.js';
import type { HostKeyStore } from '../core/ssh/host-keys/policy.js';
import type { Prompter } from '../core/ssh/prompter.js';
import { resolveTarget, type ResolvedTarget } from '../core/ssh/route.js';
import type { ConnectSettings } from '../core/ssh/connect.js';
import { defaultPuttyStorage } from '../core/ssh/putty/storage.js';
import { parseHostPort, parsePort, type HostPort } from '../core/common/target.js';
import { DEFAULT_REMOTE } from '../core/tunnel/tunnel.js';
import type { OptionSpecs } from './arguments.js';
import { invokedAs } from './invocation.js';
import { terminalPrompter } from './terminal-prompter.js';

// The SSH options every `reclaim` command shares, and how they become a route and connect
// settings. Secrets never come from argv: a password only through --password-env NAME.

export const SSH_OPTIONS: OptionSpecs = {
  port: { type: 'string', short: 'p', example: '2222' },
  identity: { type: 'string', short: 'i', example: '~/.ssh/id_ed25519' },
  'password-env': { type: 'string', example: 'PLEX_SSH_PASSWORD' },
  agent: { type: 'boolean' },
  'known-hosts': { type: 'string', example: '~/.ssh/known_hosts' },
  'accept-new': { type: 'boolean' },
  jump: { type: 'string', short: 'J', example: 'you@bastion.example.com' },
  config: { type: 'string', short: 'F', example: '~/.ssh/config' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** -L and --remote: every command opens a tunnel. */
export const TUNNEL_OPTIONS: OptionSpecs = {
  'local-port': { type: 'string', short: 'L', example: '8888' },
  remote: { type: 'string', example: '127.0.0.1:32400' },
};

export const SSH_OPTIONS_HELP = `
SSH options:
  -p, --port N            SSH port (default: from ~/.ssh/config, else 22)
  -i, --identity FILE     private key to sign in with (OpenSSH, PEM or PuTTY .ppk; asks for its passphrase)
      --password-env NAME read the SSH password from environment variable NAME
      --agent             require your SSH agent (SSH_AUTH_SOCK, Windows agent or Pageant; used anyway when found)
      --known-hosts FILE  trust only the keys in FILE, and record newly accepted keys there
      --accept-new        accept and record a server key seen for the first time (never a changed one)
  -J, --jump HOSTS        reach the server through jump host(s): [user@]host[:port][,...]
  -F, --config FILE       ssh config file to read (default ~/.ssh/config); it must exist, as with ssh -F
      --json              print JSON lines on stdout and never wait for input
      --verbose           also print Reclaim's log lines on stderr (they always go to its log file)`;

export interface SshOptionValues {
  port?: string;
  identity?: string;
  'password-env'?: string;
  agent?: boolean;
  'known-hosts'?: string;
  'accept-new'?: boolean;
  jump?: string;
  config?: string;
  json?: boolean;
  remote?: string;
  'local-port'?: string;
}

export function isInteractive(values: SshOptionValues): boolean {
  return !values.json && Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}

/** The hops to the server; a target that names a PuTTY saved session also brings that session. */
export async function routeFromOptions(target: string, values: SshOptionValues): Promise<ResolvedTarget> {
  return resolveTarget({
    target,
    port: values.port === undefined ? undefined : parsePort(values.port, 'SSH port (-p)'),
    jump: values.jump,
    config: values.config ? { configFile: values.config, configFileMustExist: true } : {},
    putty: defaultPuttyStorage(),
  });
}

export async function connectSettingsFromOptions(values: SshOptionValues): Promise<ConnectSettings> {
  const prompter: Prompter = isInteractive(values) ? terminalPrompter() : {};
  if (values.identity) await checkIdentityFile(values.identity);
  if (values['known-hosts']) await checkKnownHostsFile(values['known-hosts']);
  const agent = findAgent();
  if (values.agent && !agent) {
    throw badInput(
      'No SSH agent was found (SSH_AUTH_SOCK is not set, and no Windows agent or Pageant is running).',
      'Start your agent and add your key (ssh-add), or sign in with a key file (-i FILE) instead.',
    );
  }
  const hostKeys: HostKeyStore = values['known-hosts']
    ? { trustFiles: [values['known-hosts']], recordFile: values['known-hosts'], acceptNew: Boolean(values['accept-new']) }
    : { trustFiles: [...userKnownHostsFiles(), reclaimKnownHostsFile()], recordFile: reclaimKnownHostsFile(), acceptNew: Boolean(values['accept-new']), putty: defaultPuttyStorage() };
  return {
    auth: { identityFile: values.identity, password: readPasswordEnv(values['password-env']), agent },
    hostKeys,
    prompter,
  };
}

function readPasswordEnv(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  // Not echoed: someone who misread the option may have typed the password itself here.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) {
    throw badInput(
      'What follows --password-env is not the name of an environment variable (letters, digits and _).',
      'Put the password in an environment variable and give its name, for example: read -s PLEX_SSH_PASSWORD && export PLEX_SSH_PASSWORD, then --password-env PLEX_SSH_PASSWORD. Never type the password itself on the command line.',
    );
  }
  const password = process.env[name];
  if (!password) {
    throw badInput(
      `The environment variable ${name} (named by --password-env) is not set or is empty.`,
      `Set it before running Reclaim, for example: read -s ${name} && export ${name}`,
    );
  }
  // Keep the password out of anything this process starts later.
  delete process.env[name];
  return password;
}

/** -L and --remote, shared by every command: each opens a tunnel. `defaultRemote` comes from a PuTTY session's forward. */
export function tunnelEnds(localPortText: string | undefined, remoteText: string | undefined, defaultLocalPort: number, defaultRemote?: string): { localPort: number; remote: HostPort } {
  if (localPortText !== undefined && localPortText.includes(':')) {
    throw badInput(
      `-L ${localPortText}: here -L takes only the local port.`,
      `Use -L ${localPortText.split(':')[0]} --remote ${localPortText.split(':').slice(1).join(':')} instead.`,
    );
  }
  return {
    localPort: localPortText === undefined ? defaultLocalPort : parsePort(localPortText, 'Local port (-L)', { allowZero: true }),
    remote: remoteText !== undefined ? parseHostPort(remoteText, 'Remote address (--remote)')
      : defaultRemote !== undefined ? parseHostPort(defaultRemote, 'Forward to Plex in the PuTTY session') : DEFAULT_REMOTE,
  };
}

/** The one server every command takes: `[user@]host[:port]` or a config alias. */
export function theServer(command: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw badInput(
      positionals.length
        ? `Expected one server, got ${positionals.length}: ${positionals.slice(0, 3).map(quoteInput).join(' ')}${positionals.length > 3 ? ' …' : ''}`
        : 'No server was given.',
      `Run: ${invokedAs()} ${command} [user@]host[:port]   (see ${invokedAs()} ${command} --help)`,
    );
  }
  return positionals[0]!;
}
