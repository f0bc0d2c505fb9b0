// What the systemctl stand-in knows about a service between commands (systemd keeps it in memory;
// the stand-in has no daemon, so service-run.mjs writes it to the server's private /run).
import { mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STATE_DIR = '/run/reclaim-stand-in';

/** A descriptor appending to where a service's stdout and stderr go (its journal). */
export function openJournal(unit) {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  return openSync(join(STATE_DIR, `${unit}.journal`), 'a', 0o640);
}

/** { activeState, subState, result, mainPid, since } — 'inactive'/'dead' for a service never started. */
export function readState(unit) {
  let state;
  try {
    state = JSON.parse(readFileSync(join(STATE_DIR, `${unit}.json`), 'utf8'));
  } catch {
    return { activeState: 'inactive', subState: 'dead', result: 'success', mainPid: 0, since: 0 };
  }
  // A main process that died without its supervisor noticing (both killed) leaves the unit failed.
  if (state.activeState === 'active' && !processAlive(state.mainPid)) {
    return { ...state, activeState: 'failed', subState: 'failed', result: 'signal', mainPid: 0 };
  }
  return state;
}

export function writeState(unit, state) {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  // Readers must never see a half-written file: write aside, then rename.
  const path = join(STATE_DIR, `${unit}.json`);
  writeFileSync(`${path}.tmp`, JSON.stringify({ ...state, since: Date.now() }), { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

/** Alive and not a zombie. */
export function processAlive(pid) {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
