// Plex Media Server as installed from the deb, run by the service manager as the plex user
// (plex-repair.md §1, §3; plex-claim.md §3, §5). Around the HTTP stand-in (pms-server.mjs) it keeps
// the server's files the way PMS does:
// - reads Preferences.xml at start (identity, sign-in) and keeps the settings in memory; a missing
//   or empty file gets a new identity, as a first start does;
// - writes the settings back from memory when it is claimed or unclaimed and when it stops, so an
//   edit made to the file while it runs is lost (users report this of real PMS, §4);
// - logs to "Plex Media Server.log", rotating the older logs to .1.log … .5.log at each start;
// - checks its saved sign-in with plex.tv at start and logs what real servers log when it is refused.
// What the test chooses (plex.tv address, version, extra log lines, and the fault knobs
// refuseStart and ignoreSigterm) is in CONFIG_FILE.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parsePreferences, serializePreferences } from '../preferences.mjs';
import { bannerLine, formatLogLine, LOG_FILE, ROTATED_LOGS, TOKEN_REJECTED } from '../pms-log.mjs';

const CONFIG_FILE = '/usr/lib/reclaim-stand-in/pms.json';
const HOLD_START_FILE = '/run/reclaim-stand-in/hold-start';
const HOLD_START_MAX_MS = 60_000;
const FEATURES_URL = 'https://plex.tv/api/v2/server/users/features'; // what PMS logs, whatever plex.tv's address is here
const SIGN_IN_KEYS = ['PlexOnlineHome', 'PlexOnlineMail', 'PlexOnlineToken', 'PlexOnlineUsername'];

const config = JSON.parse(readFileSync(CONFIG_FILE, 'utf8'));
const version = config.version ?? '1.41.3.9314-a0bfb8370';
const plexTv = String(config.plexTvUrl).replace(/\/+$/, '');
const timeoutMs = config.plexTvTimeoutMs ?? 5_000;
// Where PMS keeps its data: the unit's environment, else the plex user's home (plex-repair.md §1.3).
const supportDir = process.env.PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR
  || join(process.env.HOME ?? '/var/lib/plexmediaserver', 'Library', 'Application Support');
const pmsDir = join(supportDir, 'Plex Media Server');
const preferencesPath = join(pmsDir, 'Preferences.xml');
const thread = String(139_800_000_000_000 + process.pid);

const log = openLog();
log(bannerLine(version));
// The test's knob for a Plex that will not come back: it fails at each start until cleared.
if (config.refuseStart) fatal('Plex Media Server could not start (the test server was told to refuse)'); // UNCONFIRMED wording

const { loaded, newIdentity } = loadPreferences();
const settings = loaded;
if (newIdentity) savePreferences();
const machineIdentifier = settings.get('ProcessedMachineIdentifier');

// Stopped before the HTTP server is up: still write the settings back, as at any stop.
const earlyStop = () => {
  savePreferences();
  process.exit(0);
};
process.on('SIGTERM', earlyStop);

// A test may hold PMS at this point of its start (as a slow start would) until it removes the file.
for (let waited = 0; existsSync(HOLD_START_FILE) && waited < HOLD_START_MAX_MS; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));

const signIn = settings.get('PlexOnlineToken') ? await checkSignIn(settings.get('PlexOnlineToken')) : undefined;
for (const line of config.logLines ?? []) log(line);

// pms-server.mjs takes its configuration as its first argument, like when run on its own.
process.argv[2] = JSON.stringify({
  port: 32400,
  listen: ['127.0.0.1'],
  plexTvUrl: plexTv,
  plexTvTimeoutMs: timeoutMs,
  startingUpRequests: config.startingUpRequests ?? 0,
  machineIdentifier,
  friendlyName: settings.get('FriendlyName') || hostname(),
  version,
  control: 'none',
  claimedBy: signIn && {
    username: settings.get('PlexOnlineUsername') || signIn.username || '',
    email: settings.get('PlexOnlineMail') || signIn.email || '',
    token: settings.get('PlexOnlineToken'),
    serverToken: settings.get('PlexOnlineToken'),
    signInState: signIn.state,
  },
});
const { hooks } = await import('../pms-server.mjs');
process.off('SIGTERM', earlyStop);
hooks.ownerChanged = (owner) => {
  for (const key of SIGN_IN_KEYS) settings.delete(key);
  if (owner) {
    settings.set('PlexOnlineHome', '0');
    settings.set('PlexOnlineMail', owner.email);
    settings.set('PlexOnlineToken', owner.serverToken);
    settings.set('PlexOnlineUsername', owner.username);
  }
  savePreferences();
};
hooks.beforeExit = savePreferences;
// The test's knob for a Plex that will not stop: SIGTERM is logged and ignored (SIGKILL still works).
if (config.ignoreSigterm) {
  process.removeAllListeners('SIGTERM');
  process.on('SIGTERM', () => log('WARN - Ignoring a request to stop (the test server was told to)')); // UNCONFIRMED wording
}

function openLog() {
  const logs = join(pmsDir, 'Logs');
  mkdirSync(logs, { recursive: true });
  const numbered = (n) => join(logs, LOG_FILE.replace(/\.log$/, `.${n}.log`));
  for (let n = ROTATED_LOGS - 1; n >= 1; n--) if (existsSync(numbered(n))) renameSync(numbered(n), numbered(n + 1));
  if (existsSync(join(logs, LOG_FILE))) renameSync(join(logs, LOG_FILE), numbered(1));
  const fd = openSync(join(logs, LOG_FILE), 'a');
  return (line) => writeSync(fd, `${formatLogLine(new Date(), thread, line)}\n`);
}

/** Stops the server the way a failed start does: a reason in the log and on stderr (the journal). */
function fatal(message) {
  log(`ERROR - ${message}`); // UNCONFIRMED wording: no real line for this case is known
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function loadPreferences() {
  let text = '';
  try {
    text = readFileSync(preferencesPath, 'utf8');
  } catch (error) {
    if (error.code !== 'ENOENT') fatal(`Unable to read preferences from ${preferencesPath}: ${error.code}`);
  }
  let loaded;
  if (text.trim() === '') {
    // UNCONFIRMED in plex-repair.md: chose to treat an empty file like a missing one (a new identity).
    loaded = new Map([['OldestPreviousVersion', version]]);
  } else {
    try {
      loaded = parsePreferences(text);
    } catch (error) {
      fatal(`Unable to parse preferences from ${preferencesPath}: ${error.message}`); // UNCONFIRMED: chose to refuse to start
    }
  }
  // As pms-docker derives them (plex-claim.md §3): a random MachineIdentifier and its SHA-1.
  if (!loaded.get('MachineIdentifier')) loaded.set('MachineIdentifier', randomUUID());
  const newIdentity = !loaded.get('ProcessedMachineIdentifier');
  if (newIdentity) {
    loaded.set('ProcessedMachineIdentifier', createHash('sha1').update(`${loaded.get('MachineIdentifier')}- Plex Media Server`).digest('hex'));
  }
  return { loaded, newIdentity };
}

function savePreferences() {
  try {
    // In place, so the file keeps its owner and mode (PMS runs as plex and could not chown anyway).
    writeFileSync(preferencesPath, serializePreferences(settings));
  } catch (error) {
    log(`ERROR - Unable to save preferences to ${preferencesPath}: ${error.code ?? error.message}`); // UNCONFIRMED wording
  }
}

/**
 * Asks plex.tv about the saved server token as PMS does at start (the features request of §3.3).
 * 'invalid' when plex.tv refuses it; username and email from plex.tv when the file lacks them.
 */
async function checkSignIn(token) {
  const headers = {
    'X-Plex-Client-Identifier': machineIdentifier,
    'X-Plex-Product': 'Plex Media Server',
    'X-Plex-Provides': 'server',
    'X-Plex-Token': token,
    Accept: 'application/json',
  };
  const get = (path) => fetch(`${plexTv}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  try {
    const features = await get('/api/v2/server/users/features');
    if (features.status === 401) {
      for (const line of TOKEN_REJECTED) log(line);
      return { state: 'invalid' };
    }
    if (settings.get('PlexOnlineUsername')) return { state: 'ok' };
    const user = await get('/api/v2/user');
    const body = user.status === 200 ? await user.json() : {};
    return { state: 'ok', username: body.username, email: body.email };
  } catch (error) {
    // Derived from the DNS lines of §3.3: curl's code in the WARN line and as "Error -N".
    const [code, text] = error?.name === 'TimeoutError' ? [28, 'Timeout was reached'] : [7, 'Couldn\'t connect to server'];
    log(`WARN - [HttpClient/HCl#5b] HTTP error requesting GET ${FEATURES_URL} (${code}, ${text})`);
    log(`ERROR - MyPlex: Error -${code} requesting JSON from: ${FEATURES_URL}`);
    return { state: 'ok' };
  }
}
