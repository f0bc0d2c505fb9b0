// Plex Media Server's own log, "Plex Media Server.log" in "<data dir>/Plex Media Server/Logs/"
// (plex-repair.md §3): line format, rotation, and lines quoted from real logs (§3.3).

/** `MMM DD, YYYY HH:MM:SS.mmm [thread] LEVEL - message` (§3.2), in the server's local time. */
export function formatLogLine(date, thread, line) {
  const month = date.toLocaleString('en-US', { month: 'short' });
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  const stamp = `${month} ${pad(date.getDate())}, ${date.getFullYear()} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  return `${stamp} [${thread}] ${line}`;
}

export const LOG_FILE = 'Plex Media Server.log';
/** PMS keeps `Plex Media Server.1.log` … `.5.log` (§3.1). */
export const ROTATED_LOGS = 5;

// Lines as real servers wrote them (§3.3), "LEVEL - message" without the time and thread.

/** Startup banner (§3.2), with this stand-in's version and platform. */
export const bannerLine = (version) =>
  `INFO - Plex Media Server v${version} - Debian GNU/Linux PC x86_64 - build: linux-x86_64 debian - GMT 00:00`;

/** The server cannot resolve plex.tv (lsio #420). */
export const DNS_FAILURE = [
  'WARN - [HttpClient/HCl#5b] HTTP error requesting GET https://plex.tv/api/v2/server/users/features (6, Couldn\'t resolve host name) (Could not resolve host: plex.tv)',
  'DEBUG - MyPlex: no cached data to load for request for https://plex.tv/api/v2/server/users/features',
  'ERROR - MyPlex: Error -6 requesting JSON from: https://plex.tv/api/v2/server/users/features',
  'WARN - FeatureManager: Couldn\'t get features. Trying again soon.',
];

/** plex.tv refuses the server's saved PlexOnlineToken: the sign-in is dead (lsio #420). */
export const TOKEN_REJECTED = [
  'DEBUG - [HttpClient/HCl#5d] HTTP/1.1 (0.0s) 401 response from GET https://plex.tv/api/v2/server/users/features (reused)',
  'ERROR - MyPlex: Error 401 requesting JSON from: https://plex.tv/api/v2/server/users/features',
];

/** Something between the server and plex.tv presents its own certificate (lsio #420, 2025-04-14). */
export const TLS_FAILURE = [
  'WARN - [HttpClient/HCl#126] HTTP error requesting PUT https://plex.tv/devices/0123456789abcdef?Connection[][uri]=http://192.0.2.10:32400&X-Plex-Token=xxxxxxxxxxxxxxxxxxxx (60, SSL peer certificate or SSH remote key was not OK) (SSL certificate problem: self-signed certificate in certificate chain)',
  'WARN - MyPlex: Updating device connections failed, retrying in 640 seconds.',
];

/**
 * A healthy publish to plex.tv (third-party ops doc quoted in §3.3; the doc gives no levels:
 * UNCONFIRMED, chose DEBUG as the Windows "mapping state" line has).
 */
export const PUBLISHED = [
  'DEBUG - PublicAddressManager: Got public IP from v4.plex.tv: 203.0.113.7',
  'DEBUG - NAT: UPnP, getPublicIP didn\'t find usable IGD.',
  'DEBUG - NAT: PMP::getPublicIP, Received public IP from router: 203.0.113.7',
  'DEBUG - MyPlex: Published Mapping State response was 201',
  'DEBUG - MyPlex: mapping state set to \'Mapped - Publishing\'.',
];
