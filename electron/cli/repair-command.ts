import readline from 'node:readline';
import { badInput, ReclaimError } from '../core/common/errors.js';
import { validateClaimToken, type ClaimSource } from '../core/plex/claim.js';
import { PlexTvClient, plexTvUrl } from '../core/plex/plex-tv.js';
import { describeAge } from '../core/server/log-findings.js';
import type { SudoPasswordAsker } from '../core/server/privilege.js';
import { openRepair, type OpenedRepair } from '../core/server/repair/open-repair.js';
import { planEvent, planRepair, planText, planUndo, type RepairMode, type RepairPlan, type UndoPlan } from '../core/server/repair/plan.js';
import { repairSignIn } from '../core/server/repair/repair.js';
import type { RepairNotice, RepairStep } from '../core/server/repair/session.js';
import { undoRepair } from '../core/server/repair/undo.js';
import { connectRoute } from '../core/ssh/connect.js';
import { ONE_SHOT_HELP, parseOneShot, type OneShot } from './one-shot.js';
import { claimSource } from './claim-source.js';
import { invokedAs } from './invocation.js';
import { commandToRun } from './next-steps.js';
import type { Output } from './output.js';
import { isInteractive, SSH_OPTIONS_HELP } from './ssh-options.js';
import { terminalPrompter } from './terminal-prompter.js';

const repairHelp = (): string => `Usage: ${invokedAs()} repair <[user@]host[:port] | ssh-config alias | PuTTY session> [options]
       ${invokedAs()} repair <server> --undo [--yes]

Repairs the server's Plex sign-in over SSH when claiming the usual way cannot work (a dead or
foreign sign-in, Docker bridge networking, a claim Plex cannot redeem): Plex's manual method, done
for you. Reclaim shows its plan first and changes nothing until you say yes. It backs up the
Preferences beside themselves, edits only the sign-in, and puts the backup back if anything fails.
A repair that was cut off is finished or rolled back by the next one.

Repair options:
      --token TOKEN       a claim token from https://www.plex.tv/claim instead of signing in ("-" reads it from stdin)
      --mode signout|offline
                          sign out then claim through the tunnel, or claim at plex.tv and write the sign-in
                          (default: chosen from the install, with the reason shown)
      --keep-certificate  do not set the server's cached certificate aside (it is, after a revoked sign-in)
      --sudo-password-env NAME
                          read the sudo password on the server from environment variable NAME
      --undo              put back the newest backup a repair made
      --yes               go ahead without asking (needed with --json or without a terminal)
${ONE_SHOT_HELP}
${SSH_OPTIONS_HELP}`;

const STEP_TEXT: Record<RepairStep, [string, string]> = {
  stop: ['Stopping Plex Media Server...', 'Plex Media Server is stopped.'],
  backup: ['Backing up the Preferences...', ''],
  write: ['Writing the Preferences...', 'The Preferences are written.'],
  start: ['Starting Plex Media Server and waiting until it answers...', 'Plex Media Server answers.'],
  claim: ['Claiming the server...', 'Claimed.'],
  verify: ['Checking the result...', ''],
};

export async function runRepair(args: string[], output: Output): Promise<number> {
  const shot = await parseOneShot('repair', args, output, {
    token: { type: 'string' },
    mode: { type: 'string' },
    'keep-certificate': { type: 'boolean' },
    'sudo-password-env': { type: 'string' },
    undo: { type: 'boolean' },
    yes: { type: 'boolean' },
  });
  if (shot === 'help') {
    output.say(repairHelp(), 'stdout');
    return 0;
  }
  const values = shot.values;
  const mode = parseMode(values.mode as string | undefined);
  const undo = Boolean(values.undo);
  if (undo && (values.token !== undefined || mode !== undefined)) {
    throw badInput('--undo puts a backup back; it takes no --token or --mode.', 'Run reclaim repair <server> --undo on its own.');
  }
  const tokenOption = values.token as string | undefined;
  const tokenFromArgs = tokenOption === undefined || tokenOption === '-' ? undefined : validateClaimToken(tokenOption);
  const sudoPassword = sudoPasswordFrom(values['sudo-password-env'] as string | undefined, shot);
  const interactive = isInteractive(values);
  const yes = Boolean(values.yes);

  const plexTv = new PlexTvClient(plexTvUrl(), shot.headers);
  const connection = await connectRoute(shot.route, shot.connect);
  let lost = false;
  void connection.closed.then(() => {
    lost = true;
  });
  const cancel = new AbortController();
  let phase: 'preparing' | 'signing-in' | 'changing' = 'preparing';
  let warned = false;
  const onSignal = () => {
    if (phase === 'signing-in') cancel.abort();
    else if (phase === 'changing' && !warned) {
      warned = true;
      output.say('Reclaim is changing the server; stopping now would leave it half-done. Press Ctrl+C again to stop anyway (the next repair then finishes or rolls back this one).');
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  let opened: OpenedRepair | undefined;
  try {
    opened = await openRepair(connection.client, {
      headers: shot.headers,
      plexTv,
      sudoPassword,
      remote: shot.remote,
      localPort: shot.localPort,
      connectionLost: () => lost,
      onStep: (step, state) => {
        output.event({ event: 'step', step, state });
        const text = STEP_TEXT[step][state === 'started' ? 0 : 1];
        if (text) output.say(text);
      },
      onNotice: (notice) => tell(output, notice),
    });
    const { entry, session } = opened;

    let plan: RepairPlan | UndoPlan;
    let source: ClaimSource | undefined;
    if (undo) {
      plan = planUndo(entry, session.opened.backups);
    } else {
      let account: string | undefined;
      // Signing in comes before the plan, which names the account, but only when the person can
      // say yes to that plan now: otherwise the plan is shown and nothing more is done.
      if (yes || interactive) {
        phase = 'signing-in';
        ({ source, account } = await claimSource({ tokenOption, tokenFromArgs, plexTv, signal: cancel.signal, output, interactive, line: shot.line }));
        phase = 'preparing';
      }
      plan = planRepair(entry, { account, mode, renewCertificate: values['keep-certificate'] ? false : undefined });
    }
    output.event(planEvent(plan));
    output.say(planText(plan), 'stdout');
    await confirm(yes, interactive);

    phase = 'changing';
    if (plan.action === 'undo') {
      const result = await undoRepair(session, plan);
      output.event({ event: 'restored', path: result.restored, backup: result.backup, machineIdentifier: result.machineIdentifier });
      output.say(`Done: put back ${result.restored}; Plex Media Server answers. What it replaced is kept in ${result.backup}.`, 'stdout');
      return 0;
    }
    const result = await repairSignIn(session, plan, source!);
    for (const warning of result.warnings) {
      output.event({ event: 'warning', id: warning.id, title: warning.title, detail: warning.detail, fix: warning.fix, line: warning.line });
      output.say(`Warning: ${warning.title} (${describeAge(warning.ageSeconds)}): ${warning.detail}\nFix: ${warning.fix}`);
    }
    output.event({ event: 'repaired', machineIdentifier: result.machineIdentifier, username: result.username ?? null, backup: result.backup });
    output.say(`Done: the server is claimed${result.username ? ` by ${result.username}` : ''} and signed in. The Preferences as they were are in ${result.backup}; this puts them back:${commandToRun(shot.line.command('repair', { extra: ['--undo'] }))}`, 'stdout');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    await opened?.close().catch(() => {});
    await plexTv.close();
    await connection.close();
  }
}

function parseMode(text: string | undefined): RepairMode | undefined {
  if (text === undefined) return undefined;
  if (text === 'signout' || text === 'offline') return text;
  throw badInput(`--mode ${text} is not a way Reclaim knows.`, 'Use --mode signout (sign out, then claim through the tunnel) or --mode offline (claim at plex.tv and write the sign-in).');
}

/** From --sudo-password-env (taken out of the environment at once), or asked on the terminal when needed. */
function sudoPasswordFrom(name: string | undefined, shot: OneShot): string | SudoPasswordAsker | undefined {
  if (name !== undefined) {
    const password = process.env[name];
    if (!password) {
      throw badInput(`The environment variable ${name} (named by --sudo-password-env) is not set or is empty.`, `Set it before running Reclaim, for example: read -s ${name} && export ${name}`);
    }
    delete process.env[name];
    return password;
  }
  if (!isInteractive(shot.values)) return undefined;
  const prompter = terminalPrompter();
  return async ({ user, reason }) => {
    process.stderr.write(`Reclaim needs root on the server to ${reason}.\n`);
    return prompter.askSecret?.({ kind: 'password', subject: `sudo for ${user}`, attempt: 1 });
  };
}

async function confirm(yes: boolean, interactive: boolean): Promise<void> {
  if (yes) return;
  if (!interactive) {
    throw new ReclaimError('CONFIRMATION_REQUIRED', 'Reclaim showed its plan and changed nothing: it needs your yes before it changes the server.', 'Read the plan above, then run the same command with --yes.');
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.question('Go ahead? [y/N] ', resolve);
    rl.once('close', () => resolve(undefined));
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer?.trim() ?? '')) {
    throw new ReclaimError('CANCELLED', 'You did not say yes, so Reclaim changed nothing.', 'Run the repair again when you are ready.');
  }
}

function tell(output: Output, notice: RepairNotice): void {
  output.event(notice);
  switch (notice.event) {
    case 'backup':
      output.say(`Backed up the Preferences to ${notice.path}`);
      break;
    case 'certificate':
      output.say(`Set the cached certificate aside (${notice.paths.join(', ')}); Plex fetches a new one.`);
      break;
    case 'leftover-processes':
      output.say(`Plex helpers still running after Plex stopped: ${notice.processes.join(', ')}.`);
      break;
    case 'forced-stop':
      output.say(`Plex would not stop when asked, so Reclaim ${notice.detail}.`);
      break;
    case 'reopen-plex':
      output.say(notice.detail);
      break;
    case 'rolled-back':
    case 'recovered':
      output.say(notice.detail);
      break;
  }
}
