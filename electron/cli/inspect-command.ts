import type { ErrorDetails } from '../shared/error-codes.js';
import { badInput, ReclaimError } from '../core/common/errors.js';
import { PlexTvClient, plexTvUrl } from '../core/plex/plex-tv.js';
import { inspectEvents, inspectReportText, type InspectReport } from '../core/server/inspect-report.js';
import { inspectServer } from '../core/server/inspect.js';
import type { SudoPassword } from '../core/server/privilege.js';
import { connectRoute } from '../core/ssh/connect.js';
import type { Output } from './output.js';
import { parseOneShot } from './one-shot.js';
import { isInteractive, SSH_OPTIONS_HELP } from './ssh-options.js';
import { invokedAs } from './invocation.js';
import { ask } from './terminal-prompter.js';

const inspectHelp = (): string => `Usage: ${invokedAs()} inspect <[user@]host[:port] | ssh-config alias | PuTTY session> [--sudo-password-env NAME] [options]

Looks at the server's Plex Media Server install over SSH: where it lives, who it runs as and how
it is started and stopped, whether plex.tv still accepts the server's own sign-in, and what its
log says (name lookup, certificates, a sign-in plex.tv refuses, publishing, still starting). It
only reads; it changes nothing. Tokens are never shown: a sign-in is "set" or "missing".

Plex's files are often readable only by the account Plex runs as. Reclaim then uses root: your
login if it is root, else "sudo -n", else sudo with your password, which it asks for at the
terminal (never with --json) or reads from --sudo-password-env. Exits 1 when it found a problem.

Options:
      --sudo-password-env NAME  read the sudo password from environment variable NAME
      --remote HOST:PORT        Plex, as seen from the server (default 127.0.0.1:32400)
${SSH_OPTIONS_HELP}`;

/** A Preferences file that could not be read for want of root is the command's failure, not a finding. */
const SUDO_CODES = new Set(['SUDO_REQUIRED', 'SUDO_REFUSED']);

export async function runInspect(args: string[], output: Output): Promise<number> {
  const shot = await parseOneShot('inspect', args, output, { 'sudo-password-env': { type: 'string' } });
  if (shot === 'help') {
    output.say(inspectHelp(), 'stdout');
    return 0;
  }
  if (shot.values['local-port'] !== undefined) {
    throw badInput('inspect opens no tunnel for you, so -L (--local-port) has no use here.', `Leave out -L; to use Plex through a tunnel, run ${invokedAs()} tunnel.`);
  }
  const sudoPassword = sudoPasswordFrom(shot.values['sudo-password-env'] as string | undefined, isInteractive(shot.values));
  const connection = await connectRoute(shot.route, shot.connect);
  const plexTv = new PlexTvClient(plexTvUrl(), shot.headers);
  let report: InspectReport;
  try {
    output.say('Looking for Plex Media Server on the server...');
    report = await inspectServer(connection.client, { plexTv, headers: shot.headers, remote: shot.remote, sudoPassword });
  } finally {
    await plexTv.close();
    await connection.close();
  }
  const events = inspectEvents(report);
  for (const event of events) output.event(event);
  output.say(inspectReportText(report).trimEnd(), 'stdout');
  const refusal = sudoRefusal(report);
  if (refusal) {
    output.error(refusal);
    return 1;
  }
  const ok = events.at(-1)?.ok === true;
  output.say(ok ? '\nNo problems found.' : '\nReclaim found problems: follow the fixes above.', 'stdout');
  return ok ? 0 : 1;
}

/** The password from the environment, or a question at the terminal; none with --json. */
function sudoPasswordFrom(variable: string | undefined, interactive: boolean): SudoPassword | undefined {
  if (variable !== undefined) {
    const password = process.env[variable];
    if (!password) {
      throw badInput(
        `The environment variable ${variable} (named by --sudo-password-env) is not set or is empty.`,
        `Set it before running Reclaim, for example: read -s ${variable} && export ${variable}`,
      );
    }
    // Keep the password out of anything this process starts later.
    delete process.env[variable];
    return password;
  }
  if (!interactive) return undefined;
  return async ({ user, reason }) => {
    process.stderr.write(`Reclaim needs root on the server to ${reason}.\n`);
    return ask(`[sudo] password for ${user} on the server (often the same as your SSH password): `, true);
  };
}

/** The chosen install (or the only one) could not be read because sudo was needed or said no. */
function sudoRefusal(report: InspectReport): ReclaimError | undefined {
  const entry = report.installs[report.chosen ?? 0];
  const problem = entry?.preferencesProblem;
  if (!problem || !SUDO_CODES.has(problem.code)) return undefined;
  // The report keeps the error as plain facts (the app sends it over IPC); the code is one of SUDO_CODES.
  const code = problem.code as 'SUDO_REFUSED';
  return new ReclaimError(code, problem.message, problem.fix, problem.details as ErrorDetails<typeof code>);
}
