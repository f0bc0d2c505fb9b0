import os from 'node:os';
import { badInput, isReclaimError } from '../common/errors.js';
import type { SshHop } from './connect.js';
import { listHostAliases, resolveHostConfig, type ResolveOptions } from './config/ssh-config.js';
import { parseJumpList, parseSshAddress, type SshAddress } from '../common/target.js';
import { findPuttySession, jumpSpec, type PuttySession } from './putty/sessions.js';
import type { PuttyStorage } from './putty/storage.js';

// Turning "what the person typed" into the list of SSH hops to log in to, the way `ssh` does:
// a ~/.ssh/config alias supplies HostName, User, Port, IdentityFile and ProxyJump; values typed
// on the command line win; -J replaces the target's ProxyJump; a jump host's own ProxyJump is
// followed in turn. A name that is no ~/.ssh/config Host but one of PuTTY's saved sessions is
// that session, as plink takes it: its host, port, user, key file and SSH jump host.

export interface RouteRequest {
  /** `[user@]host[:port]`, a ~/.ssh/config alias, or the name of a PuTTY saved session. */
  target: string;
  /** -p: overrides the port from the target or the config. */
  port?: number;
  /** -J: comma-separated jump hosts; replaces ProxyJump from the config. */
  jump?: string;
  config?: ResolveOptions;
  /** Where PuTTY keeps its saved sessions; without it, session names are not looked up. */
  putty?: PuttyStorage;
}

export interface ResolvedTarget {
  hops: SshHop[];
  /** The PuTTY session the target named, for the rest of its settings (its forward to Plex). */
  puttySession?: PuttySession;
}

const MAX_HOPS = 8;
const DEFAULT_SSH_PORT = 22;

export async function resolveRoute(request: RouteRequest): Promise<SshHop[]> {
  return (await resolveTarget(request)).hops;
}

export async function resolveTarget(request: RouteRequest): Promise<ResolvedTarget> {
  const config = request.config ?? {};
  const session = request.putty && !(await listHostAliases(config)).includes(request.target)
    ? await findPuttySession(request.putty, request.target)
    : undefined;
  if (session) return { hops: await sessionRoute(session, request, config), puttySession: session };
  const address = parseSshAddress(request.target);
  return { hops: await resolveHop(address, request.target, request.port, request.jump, config, 0) };
}

async function sessionRoute(session: PuttySession, request: RouteRequest, config: ResolveOptions): Promise<SshHop[]> {
  const jump = request.jump ?? (session.jump && 'host' in session.jump ? jumpSpec(session.jump) : undefined);
  if (jump === undefined && session.jump && 'unsupported' in session.jump) {
    throw badInput(
      `The PuTTY session "${session.name}" reaches its server through ${session.jump.unsupported}, which Reclaim cannot use.`,
      'Reach the server through an SSH jump host instead (in PuTTY: Connection > Proxy > "SSH to proxy and use port forwarding"), or give one with -J user@host.',
    );
  }
  const hop: SshHop = {
    label: session.name,
    host: session.host,
    port: request.port ?? session.port,
    user: session.user ?? config.localUser ?? os.userInfo().username,
    // Tried after the agent, as PuTTY tries Pageant's keys before the session's key file.
    configIdentityFiles: session.keyFile ? [session.keyFile] : [],
  };
  return jump ? [...(await jumpHops(jump, config, 1)), hop] : [hop];
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
  const jumps = jumpOverride ?? hostConfig.proxyJump;
  const fromConfig = jumpOverride === undefined ? { label, config } : undefined;
  return jumps ? [...(await jumpHops(jumps, config, depth + 1, fromConfig)), hop] : [hop];
}

/** `fromConfig`: the jumps are a ProxyJump from the config, which a bad hop's error names. */
async function jumpHops(
  jumps: string,
  config: ResolveOptions,
  depth: number,
  fromConfig?: { label: string; config: ResolveOptions },
): Promise<SshHop[]> {
  const hops: SshHop[] = [];
  for (const [index, jump] of jumpList(jumps, fromConfig).entries()) {
    const jumpLabel = jumps.split(',')[index]!.trim();
    // Only the first jump host may have its own ProxyJump applied; later ones are reached
    // through the hop before them, as with `ssh -J a,b`.
    hops.push(...(await resolveHop(jump, jumpLabel, undefined, index === 0 ? undefined : '', config, depth)));
  }
  return hops;
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
