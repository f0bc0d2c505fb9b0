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

const REQUEST_LINE = /^[A-Z]{3,10} \S+ HTTP\/1\.[01]\r?\n/;

/** Whether these first bytes look like an HTTP request (only HTTP can come from a web page). */
export function looksLikeHttp(start: string): boolean {
  return /^[A-Z]{1,10}( |$)/.test(start.slice(0, 11)) || start.length === 0;
}

/** The end of the header block, or -1 while it is incomplete. */
export function headEnd(text: string): number {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? -1 : end + 4;
}

export function screenRequest(head: string, localPort: number): Screening {
  if (!REQUEST_LINE.test(head)) return { allowed: true }; // not HTTP: nothing a web page could send
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const ours = new Set([`127.0.0.1:${localPort}`, `localhost:${localPort}`]);
  const host = headers.get('host')?.toLowerCase();
  if (!host || !ours.has(host)) {
    return { allowed: false, reason: `it was addressed to "${host ?? 'no host'}", not to this tunnel (127.0.0.1:${localPort})` };
  }
  const origin = headers.get('origin')?.toLowerCase();
  if (origin !== undefined && !ours.has(origin.replace(/^http:\/\//, '')) ) {
    return { allowed: false, reason: `it came from the web page ${origin}` };
  }
  const fetchSite = headers.get('sec-fetch-site')?.toLowerCase();
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return { allowed: false, reason: 'it came from another web site' };
  }
  return { allowed: true };
}

export function refusal(reason: string): string {
  const body = `Reclaim blocked this request because ${reason}. Only pages served through the tunnel itself may use it, so that no other web site can reach your Plex server as if it were local.\n`;
  return `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
