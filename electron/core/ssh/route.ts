import os from 'node:os';
import { badInput, isReclaimError } from '../common/errors.js';
import type { SshHop } from './connect.js';
import { resolveHostConfig, type ResolveOptions } from './config/ssh-config.js';
import { parseJumpList, parseSshAddress, type SshAddress } from '../common/target.js';

// Turning "what the person typed" into the list of SSH hops to log in to, the way `ssh` does:
// a ~/.ssh/config alias supplies HostName, User, Port, IdentityFile and ProxyJump; values typed
// on the command line win; -J replaces the target's ProxyJump; a jump host's own ProxyJump is
// followed in turn.

export interface RouteRequest {
  /** `[user@]host[:port]` or a ~/.ssh/config alias. */
  target: string;
  /** -p: overrides the port from the target or the config. */
  port?: number;
  /** -J: comma-separated jump hosts; replaces ProxyJump from the config. */
  jump?: string;
  config?: ResolveOptions;
}

const MAX_HOPS = 8;
const DEFAULT_SSH_PORT = 22;

export async function resolveRoute(request: RouteRequest): Promise<SshHop[]> {
  const address = parseSshAddress(request.target);
  return resolveHop(address, request.target, request.port, request.jump, request.config ?? {}, 0);
}

async function resolveHop(
  address: SshAddress,
  label: string,
  portOverride: number | undefined,
  jumpOverride: string | undefined,
  config: ResolveOptions,
  depth: number,
): Promise<SshHop[]> {
  if (depth >= MAX_HOPS) {
    throw badInput(
      `The jump hosts for ${label} go more than ${MAX_HOPS} hops deep.`,
      `Check ProxyJump in ${configName(config)} for a loop (a host that jumps through itself).`,
    );
  }
  const hostConfig = await resolveHostConfig(address.host, config);
  const hop: SshHop = {
    label,
    host: hostConfig.hostName ?? address.host,
    port: portOverride ?? address.port ?? hostConfig.port ?? DEFAULT_SSH_PORT,
    user: address.user ?? hostConfig.user ?? config.localUser ?? os.userInfo().username,
    configIdentityFiles: hostConfig.identityFiles,
  };
  if (hostConfig.proxyCommand && jumpOverride === undefined) {
    throw badInput(
      `${configName(config)} reaches ${label} with ProxyCommand, which Reclaim never runs (it would execute a program from the config).`,
      'Use ProxyJump in the config, or give the jump host instead (the Jump host field in the app, -J user@bastion.example.com on the command line).',
    );
  }
  const jumpSpec = jumpOverride ?? hostConfig.proxyJump;
  if (!jumpSpec) return [hop];
  const before: SshHop[] = [];
  for (const [index, jump] of jumpList(jumpSpec, jumpOverride === undefined ? { label, config } : undefined).entries()) {
    const jumpLabel = jumpSpec.split(',')[index]!.trim();
    // Only the first jump host may have its own ProxyJump applied; later ones are reached
    // through the hop before them, as with `ssh -J a,b`.
    before.push(...(await resolveHop(jump, jumpLabel, undefined, index === 0 ? undefined : '', config, depth + 1)));
  }
  return [...before, hop];
}

/** The config file as the person knows it: the one they named, else ~/.ssh/config. */
function configName(config: ResolveOptions): string {
  return config.configFile ?? '~/.ssh/config';
}

/** The hops of a -J value, or of a ProxyJump from the config (`fromConfig`), which a bad hop names. */
function jumpList(spec: string, fromConfig: { label: string; config: ResolveOptions } | undefined): SshAddress[] {
  try {
    return parseJumpList(spec);
  } catch (error) {
    if (!fromConfig || !isReclaimError(error)) throw error;
    throw badInput(
      `The ProxyJump for ${fromConfig.label} in ${configName(fromConfig.config)}: ${error.message}`,
      `Fix that ProxyJump line in ${configName(fromConfig.config)} (or a file it includes). ${error.fix}`,
    );
  }
}
