import type { ProfileFields } from '../../shared/ipc-contract.js';
import { jumpSpec, listPuttySessions } from '../ssh/putty/sessions.js';
import type { PuttyStorage } from '../ssh/putty/storage.js';

/**
 * Server forms filled in from PuTTY's saved sessions (nothing is saved): the key file, the SSH
 * jump host and the local port of the session's forward to Plex come along. A session behind a
 * proxy Reclaim cannot use (SOCKS, HTTP, a local command) is left out rather than offered.
 */
export async function profilesFromPutty(storage: PuttyStorage): Promise<ProfileFields[]> {
  const sessions = await listPuttySessions(storage);
  return sessions.flatMap((session) => {
    if (session.jump && 'unsupported' in session.jump) return [];
    return [{
      name: session.name,
      host: session.host,
      sshPort: session.port,
      user: session.user ?? '',
      auth: session.keyFile ? 'key' : 'auto',
      keyPath: session.keyFile ?? '',
      jump: session.jump ? jumpSpec(session.jump) : '',
      localPort: session.plexForward?.localPort ?? 8888,
      remote: session.plexForward?.remote ?? '127.0.0.1:32400',
    } satisfies ProfileFields];
  });
}
