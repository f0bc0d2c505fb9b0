// Stand-in for systemctl (systemd 252, Debian 12) on the test server, installed as
// /usr/bin/systemctl. The subset a tool inspecting or repairing Plex uses: start, stop, restart,
// is-active, status, show, cat, daemon-reload, reset-failed. Changing a service needs root: anyone
// else gets what systemctl prints without a polkit agent ("Interactive authentication required.").
// Units are read from the unit search path and drop-ins each time (daemon-reload is accepted but
// not needed).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadUnit, unitName } from './unit-files.mjs';
import { openJournal, processAlive, readState, writeState } from './service-state.mjs';

const SERVICE_RUN = fileURLToPath(new URL('./service-run.mjs', import.meta.url));
const START_TIMEOUT_MS = 40_000;
// systemd waits TimeoutStopSec (90 s by default) before SIGKILL; tests should not wait that long.
const STOP_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 5_000;

const out = (text) => process.stdout.write(text);
const err = (text) => process.stderr.write(text);

function parseArgs(args) {
  const options = { properties: [], value: false, quiet: false };
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const property = /^(?:-p|--property=?)(.*)$/.exec(arg);
    if (arg === '-P') {
      options.value = true;
      options.properties.push(...(args[++i] ?? '').split(','));
    } else if (property && (arg.startsWith('-p') || arg.startsWith('--property'))) {
      const list = property[1] || args[++i] || '';
      options.properties.push(...list.split(',').filter(Boolean));
    } else if (arg === '--value') options.value = true;
    else if (arg === '-q' || arg === '--quiet') options.quiet = true;
    else if (['--no-pager', '--no-ask-password', '--no-legend', '--full', '-l', '--system', '--no-block'].includes(arg)) { /* no effect here */ }
    else if (arg === '--version') options.version = true;
    else if (arg.startsWith('-')) {
      err(`systemctl: unrecognized option '${arg}'\n`);
      process.exit(1);
    } else positional.push(arg);
  }
  return { options, verb: positional[0], units: positional.slice(1).map(unitName) };
}

/** systemctl's message when polkit would have to ask for a password and cannot. */
function requireRoot(action, units) {
  if (process.getuid() === 0) return;
  if (action === 'daemon-reload') err('Failed to reload daemon: Interactive authentication required.\n');
  else if (action === 'reset-failed') err(`Failed to reset failed state of unit ${units[0]}: Interactive authentication required.\n`);
  else err(`Failed to ${action} ${units[0]}: Interactive authentication required.\nSee system logs and 'systemctl status ${units[0]}' for details.\n`);
  process.exit(1);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls the service state (bounded): the stand-in has no daemon to notify it. */
async function waitFor(unit, done, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!done(readState(unit))) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function start(unit) {
  if (!loadUnit(unit)) {
    err(`Failed to start ${unit}: Unit ${unit} not found.\n`);
    return 5;
  }
  if (readState(unit).activeState === 'active') return 0;
  // Detached in its own session, with nothing of ours inherited but a pipe for its one report:
  // the SSH session that ran `systemctl start` must be able to end while the service runs.
  const runner = spawn(process.execPath, [SERVICE_RUN, unit], { detached: true, stdio: ['ignore', 'pipe', openJournal(unit)], cwd: '/' });
  const report = await new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve('failed timeout'), START_TIMEOUT_MS);
    runner.stdout.on('data', (d) => {
      text += d.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.split('\n')[0]);
      }
    });
    runner.once('exit', () => {
      clearTimeout(timer);
      resolve(text.split('\n')[0] || 'failed exit-code');
    });
  });
  runner.stdout.destroy();
  runner.unref();
  if (report.startsWith('started ')) return 0;
  err(`Job for ${unit} failed because the control process exited with error code.\n`
    + `See "systemctl status ${unit}" and "journalctl -xeu ${unit}" for details.\n`);
  return 1;
}

async function stop(unit) {
  const loaded = loadUnit(unit);
  if (!loaded) {
    err(`Failed to stop ${unit}: Unit ${unit} not loaded.\n`);
    return 5;
  }
  const state = readState(unit);
  if (state.activeState !== 'active' || !processAlive(state.mainPid)) return 0;
  process.kill(state.mainPid, 'SIGTERM');
  const stopped = (s) => s.activeState !== 'active' && s.activeState !== 'deactivating';
  const timeoutMs = loaded.timeoutStopSec === undefined ? STOP_TIMEOUT_MS : loaded.timeoutStopSec * 1000;
  if (await waitFor(unit, stopped, timeoutMs)) return 0;
  if (!loaded.sendSigkill) {
    // SendSIGKILL=no: systemd gives up and leaves the process running, the unit failed.
    // UNCONFIRMED: what systemctl prints and returns then; chose silence and 0, as the stop
    // commands that report success while Plex runs on (plex-repair.md §4, R1 #10).
    writeState(unit, { activeState: 'failed', subState: 'failed', result: 'timeout', mainPid: state.mainPid });
    return 0;
  }
  try { process.kill(state.mainPid, 'SIGKILL'); } catch { /* exited meanwhile */ }
  await waitFor(unit, stopped, KILL_TIMEOUT_MS);
  return 0;
}

/** systemd shows each environment entry, quoted when it holds whitespace (UNCONFIRMED: exact quoting). */
function environmentValue(environment) {
  return [...environment].map(([k, v]) => {
    const entry = `${k}=${v}`;
    return /[\s"\\]/.test(entry) ? `"${entry.replace(/[\\"]/g, (c) => `\\${c}`)}"` : entry;
  }).join(' ');
}

// systemd's timestamps: "Tue 2025-12-02 15:19:00 UTC".
function timestamp(ms) {
  const d = new Date(ms);
  const day = d.toLocaleString('en-US', { weekday: 'short', timeZone: 'UTC' });
  return `${day} ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function ago(ms) {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}min ${seconds % 60}s`;
}

/** Properties in the order systemctl show prints them (service properties, then unit properties). */
function properties(unit, name) {
  const state = readState(name);
  const mainPid = state.activeState === 'active' ? state.mainPid : 0;
  return [
    ['Type', 'simple'],
    ['Restart', unit ? 'on-failure' : 'no'],
    ['MainPID', String(mainPid)],
    ['ExecMainPID', String(mainPid)],
    ['Environment', unit ? environmentValue(unit.environment) : ''],
    ['User', unit?.user ?? ''],
    ['Group', unit?.group ?? ''],
    ['Id', name],
    ['Names', name],
    ['Description', unit?.description || name],
    ['LoadState', unit ? 'loaded' : 'not-found'],
    ['ActiveState', state.activeState],
    ['SubState', state.subState],
    ['Result', state.result],
    ['FragmentPath', unit?.fragmentPath ?? ''],
    ['DropInPaths', unit?.dropInPaths.join(' ') ?? ''],
    ['UnitFileState', unit ? 'enabled' : ''],
    ['ActiveEnterTimestamp', state.activeState === 'active' ? timestamp(state.since) : ''],
  ];
}

function show(name, options) {
  const all = properties(loadUnit(name), name);
  // Asked-for properties are printed even when empty, in systemctl's order, not the asking order.
  const chosen = options.properties.length ? all.filter(([k]) => options.properties.includes(k)) : all.filter(([, v]) => v !== '');
  out(chosen.map(([k, v]) => (options.value ? `${v}\n` : `${k}=${v}\n`)).join(''));
  return 0;
}

function cat(name) {
  const unit = loadUnit(name);
  if (!unit) {
    err(`No files found for ${name}.\n`);
    return 1;
  }
  out(unit.files.map((f) => `# ${f.path}\n${f.text}${f.text.endsWith('\n') ? '' : '\n'}`).join('\n'));
  return 0;
}

function status(name) {
  const unit = loadUnit(name);
  if (!unit) {
    err(`Unit ${name} could not be found.\n`);
    return 4;
  }
  const state = readState(name);
  const active = state.activeState === 'active';
  const lines = [
    `${active ? '●' : '○'} ${name} - ${unit.description || name}`,
    `     Loaded: loaded (${unit.fragmentPath}; enabled; preset: enabled)`,
  ];
  if (unit.dropInPaths.length) {
    const dirs = [...new Set(unit.dropInPaths.map((p) => p.slice(0, p.lastIndexOf('/'))))];
    dirs.forEach((dir, i) => {
      const files = unit.dropInPaths.filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1));
      lines.push(`${i === 0 ? '    Drop-In: ' : '             '}${dir}`, `             └─${files.join(', ')}`);
    });
  }
  if (active) {
    lines.push(`     Active: active (running) since ${timestamp(state.since)}; ${ago(state.since)} ago`);
    let comm = '';
    try { comm = readFileSync(`/proc/${state.mainPid}/comm`, 'utf8').trim(); } catch { /* just exited */ }
    lines.push(`   Main PID: ${state.mainPid} (${comm})`);
  } else if (state.activeState === 'failed') {
    lines.push(`     Active: failed (Result: ${state.result}) since ${timestamp(state.since)}`);
  } else lines.push('     Active: inactive (dead)');
  out(`${lines.join('\n')}\n`);
  return active ? 0 : 3;
}

async function main() {
  const { options, verb, units } = parseArgs(process.argv.slice(2));
  if (options.version) {
    out('systemd 252 (252.39-1~deb12u1)\n');
    return 0;
  }
  if (verb === undefined) return 0; // would list units; nothing here needs it
  if (['start', 'stop', 'restart', 'is-active', 'cat', 'reset-failed'].includes(verb) && units.length === 0) {
    err('Too few arguments.\n');
    return 1;
  }
  switch (verb) {
    case 'start':
    case 'stop':
    case 'restart': {
      requireRoot(verb, units);
      let code = 0;
      for (const unit of units) {
        if (verb !== 'start') code = (await stop(unit)) || code;
        if (verb !== 'stop') code = (await start(unit)) || code;
      }
      return code;
    }
    case 'is-active': {
      const states = units.map((u) => readState(u).activeState);
      if (!options.quiet) out(states.map((s) => `${s}\n`).join(''));
      return states.every((s) => s === 'active') ? 0 : 3;
    }
    case 'status':
      return status(units[0] ?? '');
    case 'show':
      return show(units[0] ?? '', options);
    case 'cat':
      return cat(units[0]);
    case 'daemon-reload':
      requireRoot(verb, units);
      return 0;
    case 'reset-failed':
      requireRoot(verb, units);
      for (const unit of units) if (readState(unit).activeState === 'failed') writeState(unit, { activeState: 'inactive', subState: 'dead', result: 'success', mainPid: 0 });
      return 0;
    default:
      err(`Unknown command verb '${verb}'.\n`);
      return 1;
  }
}

process.exitCode = await main();
