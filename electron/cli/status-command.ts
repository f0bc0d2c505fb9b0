import { readServerStatus } from '../core/plex/server-status.js';
import type { Output } from './output.js';
import { ONE_SHOT_HELP, parseOneShot, withPms } from './one-shot.js';
import { SSH_OPTIONS_HELP } from './ssh-options.js';
import { commandToRun } from './next-steps.js';
import { invokedAs } from './invocation.js';

const statusHelp = (): string => `Usage: ${invokedAs()} status <[user@]host[:port] | ssh-config alias | PuTTY session> [options]

Connects through a tunnel of its own and tells whether the Plex Media Server is claimed.
${ONE_SHOT_HELP}
${SSH_OPTIONS_HELP}`;

export async function runStatus(args: string[], output: Output): Promise<number> {
  const shot = await parseOneShot('status', args, output);
  if (shot === 'help') {
    output.say(statusHelp(), 'stdout');
    return 0;
  }
  const { identity, signIn } = await withPms(shot, readServerStatus);
  output.event({
    event: 'status',
    claimed: identity.claimed,
    machineIdentifier: identity.machineIdentifier,
    version: identity.version,
    ...(signIn ?? {}),
  });
  const name = signIn?.friendlyName ? `"${signIn.friendlyName}" ` : '';
  output.say(identity.claimed
    ? `Plex Media Server ${name}(version ${identity.version}) is claimed${signIn?.username ? ` by ${signIn.username}` : ''}.`
    : `Plex Media Server ${name}(version ${identity.version}) is NOT claimed: it belongs to no Plex account.\nClaim it with:${commandToRun(shot.line.command('claim'))}`, 'stdout');
  return 0;
}
