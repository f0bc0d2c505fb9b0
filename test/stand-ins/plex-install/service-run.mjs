// What systemd does for one run of a Type=simple service, started (detached) by the systemctl
// stand-in: runs ExecStartPre= and then ExecStart= as User=/Group= with the unit's environment,
// reports "started <pid>" or "failed <result>" on stdout once, records the main process in the
// service state, and records how it ended. Restart=on-failure is not played: a failed run stays
// failed until someone starts it again.
// Usage (as root): node service-run.mjs <unit>
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expandCommand, loadUnit } from './unit-files.mjs';
import { openJournal, writeState } from './service-state.mjs';

// The Plex Media Server binary on the test server is Node itself (bind-mounted under its real
// path, so the process table shows the real name): with no script argument Node runs the program
// it reads on stdin, so every service started here gets this bootstrap as stdin instead of /dev/null.
const BOOTSTRAP = fileURLToPath(new URL('./pms-boot.cjs', import.meta.url));
const PRE_TIMEOUT_MS = 30_000;
// systemd counts these deaths of the main process as a clean stop.
const CLEAN_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPIPE'];

const name = process.argv[2];
const unit = loadUnit(name);
const report = (line) => process.stdout.write(`${line}\n`);
process.stdout.on('error', () => {}); // systemctl stopped listening: nobody to tell
if (!unit) {
  report('failed not-found');
  process.exit(1);
}

/** uid, gid, home and shell from the server's own /etc/passwd and /etc/group. */
function account(user, group) {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const entry = passwd.find((f) => f[0] === (user || 'root'));
  if (!entry) throw new Error(`user ${user} does not exist`);
  let gid = Number(entry[3]);
  if (group) {
    const g = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === group);
    if (!g) throw new Error(`group ${group} does not exist`);
    gid = Number(g[2]);
  }
  return { user: entry[0], uid: Number(entry[2]), gid, home: entry[5], shell: entry[6] };
}

function fail(result) {
  writeState(name, { activeState: 'failed', subState: 'failed', result, mainPid: 0 });
  report(`failed ${result}`);
  process.exit(1);
}

let who;
try {
  who = account(unit.user, unit.group);
} catch {
  fail('exit-code'); // systemd: status=217/USER
}
// The environment systemd gives a service with User=: its own variables, then the unit's.
const env = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: who.home,
  LOGNAME: who.user,
  USER: who.user,
  SHELL: who.shell,
  INVOCATION_ID: randomBytes(16).toString('hex'),
  ...Object.fromEntries(unit.environment),
};
const journal = openJournal(name);
const options = (command) => ({
  env, cwd: '/', ...(command.asRoot ? {} : { uid: who.uid, gid: who.gid }),
});

writeState(name, { activeState: 'activating', subState: 'start-pre', result: 'success', mainPid: 0 });
for (const command of unit.execStartPre) {
  const argv = expandCommand(command.argv, env);
  const run = spawnSync(argv[0], argv.slice(1), { ...options(command), stdio: ['ignore', journal, journal], timeout: PRE_TIMEOUT_MS });
  if (run.status !== 0 && !command.ignoreFailure) fail(run.signal ? 'signal' : 'exit-code');
}

const main = unit.execStart[0];
if (!main) fail('exit-code'); // systemd refuses to load a service without ExecStart
const argv = expandCommand(main.argv, env);
const child = spawn(argv[0], argv.slice(1), { ...options(main), stdio: [openSync(BOOTSTRAP, 'r'), journal, journal] });
child.once('error', () => fail('exit-code')); // systemd: status=203/EXEC
child.once('spawn', () => {
  writeState(name, { activeState: 'active', subState: 'running', result: 'success', mainPid: child.pid });
  report(`started ${child.pid}`);
});
child.once('exit', (code, signal) => {
  if (code === 0 || CLEAN_SIGNALS.includes(signal)) {
    writeState(name, { activeState: 'inactive', subState: 'dead', result: 'success', mainPid: 0 });
  } else {
    writeState(name, { activeState: 'failed', subState: 'failed', result: signal ? 'signal' : 'exit-code', mainPid: 0 });
  }
  process.exit(0);
});
