import { CHECK_TITLES, diagnose } from '../core/diagnose/diagnose.js';
import { plexTvUrl } from '../core/plex/plex-tv.js';
import type { Output } from './output.js';
import { ONE_SHOT_HELP, parseOneShot } from './one-shot.js';
import { SSH_OPTIONS_HELP } from './ssh-options.js';
import { commandToRun } from './next-steps.js';
import { invokedAs } from './invocation.js';

const diagnoseHelp = (): string => `Usage: ${invokedAs()} diagnose <[user@]host[:port] | ssh-config alias | PuTTY session> [options]

Checks, link by link, why Plex says "Not authorized": the SSH login, forwarding, Plex Media
Server answering and being claimed, and whether the server reaches plex.tv (name lookup, HTTPS,
certificates, clock). Each failed check comes with a fix. Exits 1 when any check fails.
${ONE_SHOT_HELP}
${SSH_OPTIONS_HELP}`;

export async function runDiagnose(args: string[], output: Output): Promise<number> {
  const shot = await parseOneShot('diagnose', args, output);
  if (shot === 'help') {
    output.say(diagnoseHelp(), 'stdout');
    return 0;
  }
  // The core's fix for an unclaimed server speaks to the app and the command line alike; here the
  // next step is the exact claim command for this server.
  const claimFix = `Claim it (you sign in with Plex in your browser; add --token - to paste a token from https://www.plex.tv/claim instead):${commandToRun(shot.line.command('claim'))}`;
  const checks = await diagnose({
    route: shot.route,
    connect: shot.connect,
    remote: shot.remote,
    plexTvUrl: plexTvUrl(),
    plexHeaders: shot.headers,
    onCheck: (reported) => {
      const check = reported.id === 'pms-claimed' && reported.ok === false ? { ...reported, fix: claimFix } : reported;
      output.event({ event: 'check', ...check });
      const mark = check.ok === true ? 'ok  ' : check.ok === false ? 'FAIL' : '--  ';
      const fix = check.ok === false && check.fix ? `\n       Fix: ${check.fix.replace(/\n/g, '\n       ')}` : '';
      output.say(`[${mark}] ${CHECK_TITLES[check.id]}: ${check.detail}${fix}`, 'stdout');
    },
  });
  const ok = checks.every((check) => check.ok !== false);
  output.event({ event: 'summary', ok });
  output.say(ok ? '\nNo problems found.' : '\nSome checks failed: follow the fixes above, starting with the first.', 'stdout');
  return ok ? 0 : 1;
}
