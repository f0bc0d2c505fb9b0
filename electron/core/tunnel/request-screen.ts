import { quoteInput } from '../common/quote-input.js';

// Through the tunnel, Plex treats every request as coming from the server itself, and while the
// server is unclaimed that means anyone may claim it. The local port is reachable by every web
// page the person has open: a page could POST an attacker's claim token to 127.0.0.1:8888, or
// rebind its own host name to 127.0.0.1 to read the replies. So the first request on each new
// connection is screened before anything reaches Plex: it must be addressed to the tunnel itself
// (Host), and a browser must say it comes from the tunnel's own origin, or from no page at all.
// Browsers keep separate connection pools per top-level site, so a connection opened by another
// site never carries our origin's requests, and checking its first request is enough.

export type Screening = { allowed: true } | { allowed: false; reason: string };

/** Enough bytes to hold any request line and headers a browser sends. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Whether these first bytes look like an HTTP request (only HTTP can come from a web page). */
export function looksLikeHttp(start: string): boolean {
  return /^[A-Z]{1,10}( |$)/.test(start.slice(0, 11)) || start.length === 0;
}

/** The end of the header block, or -1 while it is incomplete. */
export function headEnd(text: string): number {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? -1 : end + 4;
}

const REQUEST_LINE = /^[A-Z]{1,10} [\x21-\x7e]+ HTTP\/1\.[01]$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)$/;
/** Headers the decision rests on: a second copy would leave it to Plex which one counts. */
const DECIDING = ['host', 'origin', 'sec-fetch-site'];

/**
 * Only a complete, cleanly formed head is judged; anything that starts like HTTP but is not
 * (cut off by a pause or by MAX_HEAD_BYTES, a bare LF, a folded or repeated deciding header) is
 * refused, since Plex might read it differently than this screen did. Bytes after the head (a
 * body a page chose) are never read as headers.
 */
export function screenRequest(head: string, localPort: number): Screening {
  if (head.length === 0 || !looksLikeHttp(head)) return { allowed: true }; // not HTTP: nothing a web page could send
  const end = headEnd(head);
  if (end < 0) return { allowed: false, reason: 'its request was cut off or too long to check' };
  const [requestLine = '', ...lines] = head.slice(0, end - 4).split('\r\n');
  if (!REQUEST_LINE.test(requestLine) || /[\r\n]/.test(requestLine)) {
    return { allowed: false, reason: 'its request line was malformed' };
  }
  const headers = new Map<string, string>();
  for (const line of lines) {
    const match = HEADER_LINE.exec(line);
    if (!match) return { allowed: false, reason: 'its headers were malformed' };
    const name = match[1]!.toLowerCase();
    if (DECIDING.includes(name) && headers.has(name)) return { allowed: false, reason: `it had more than one ${match[1]} header` };
    headers.set(name, withoutSpaceAround(match[2]!));
  }
  const ours = new Set([`127.0.0.1:${localPort}`, `localhost:${localPort}`]);
  const host = headers.get('host')?.toLowerCase();
  if (!host || !ours.has(host)) {
    return { allowed: false, reason: `it was addressed to ${host ? quoteInput(host) : 'no host'}, not to this tunnel (127.0.0.1:${localPort})` };
  }
  const origin = headers.get('origin')?.toLowerCase();
  if (origin !== undefined && !ours.has(origin.replace(/^http:\/\//, ''))) {
    return { allowed: false, reason: `it came from the web page ${quoteInput(origin)}` };
  }
  const fetchSite = headers.get('sec-fetch-site')?.toLowerCase();
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return { allowed: false, reason: 'it came from another web site' };
  }
  return { allowed: true };
}

/** HTTP's optional whitespace around a value: spaces and tabs only. */
function withoutSpaceAround(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return value.slice(start, end);
}

export function refusal(reason: string): string {
  const body = `Reclaim blocked this request because ${reason}. Only pages served through the tunnel itself may use it, so that no other web site can reach your Plex server as if it were local.\n`;
  return `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
