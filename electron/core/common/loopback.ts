// The only address Reclaim listens on and originates forwards from. Through the tunnel Plex
// treats a caller as the server itself, so the local end must never be reachable from the LAN;
// the literal is used (not "localhost", which may resolve to ::1 or, misconfigured, elsewhere).
export const LOOPBACK = '127.0.0.1';
