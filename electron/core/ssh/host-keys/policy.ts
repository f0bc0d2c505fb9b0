import { isReclaimError, ReclaimError, storageFailed } from '../../common/errors.js';
import {
  checkHostKey,
  fingerprintSha256,
  hostKeyType,
  knownHostsName,
  knownKeyTypes,
  recordHostKey,
} from './known-hosts.js';
import type { AskPerson } from '../auth.js';
import type { Prompter } from '../prompter.js';
import { formatHostPort } from '../../common/target.js';

// Deciding whether to trust a server's host key, as OpenSSH does with StrictHostKeyChecking=ask
// (or accept-new): a known key passes; an unknown one is shown to the person, or refused when
// nobody can be asked; a changed or revoked one is refused, always, with the line to fix.

export interface HostKeyStore {
  /** Files read for trust decisions, in order (the user's known_hosts first). */
  trustFiles: string[];
  /** Where a newly accepted key is written: Reclaim's own file unless --known-hosts names one. */
  recordFile: string;
  /** Record an unknown key on first use without asking, like StrictHostKeyChecking=accept-new. */
  acceptNew: boolean;
}

export interface VerifiedHostKey {
  type: string;
  fingerprint: string;
}

export interface HostKeyCheck {
  /** For ssh2's `hostVerifier`: calls back with the decision; the reason is kept in `failure`. */
  verify(key: Buffer, done: (trusted: boolean) => void): void;
  failure(): ReclaimError | undefined;
  accepted(): VerifiedHostKey | undefined;
}

const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};
/** Where OpenSSH keeps the server's public key of this type: ssh-ed25519 → ssh_host_ed25519_key.pub. */
export function serverKeyFile(type: string): string {
  return `/etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-.*$/g, '')}_key.pub`;
}

const DEFAULT_HOST_KEY_ALGORITHMS = Object.values(ALGORITHMS_BY_KEY_TYPE).flat();

/**
 * Host key algorithms with the types already on record first, as OpenSSH orders them, so a
 * server that has several keys shows the one we know instead of looking "unknown".
 */
export async function hostKeyAlgorithms(store: HostKeyStore, host: string, port: number): Promise<string[]> {
  const known = (await knownKeyTypes(store.trustFiles, host, port)).flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);
  return [...new Set([...known, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

export function createHostKeyCheck(options: {
  host: string;
  port: number;
  store: HostKeyStore;
  prompter: Prompter;
  askPerson: AskPerson;
}): HostKeyCheck {
  const { host, port, store, prompter, askPerson } = options;
  const where = formatHostPort(host, port);
  let failure: ReclaimError | undefined;
  let accepted: VerifiedHostKey | undefined;

  async function decide(blob: Buffer): Promise<boolean> {
    const type = hostKeyType(blob);
    const fingerprint = fingerprintSha256(blob);
    const key = { type, blob };
    const verdict = await checkHostKey(store.trustFiles, host, port, key);
    const facts = { host, port, keyType: type, fingerprint };
    switch (verdict.kind) {
      case 'trusted':
        break;
      case 'revoked':
        failure = new ReclaimError(
          'HOST_KEY_REVOKED',
          `The key ${where} presented (${type} ${fingerprint}) is marked revoked in ${verdict.file} line ${verdict.line}. Reclaim will not connect with it.`,
          'Ask the server\'s admin why a revoked key is in use; do not remove the @revoked line unless they confirm the key is safe.',
          { ...facts, file: verdict.file, line: verdict.line },
        );
        return false;
      case 'changed': {
        const first = verdict.known[0]!;
        failure = new ReclaimError(
          'HOST_KEY_CHANGED',
          `The identity key of ${where} has CHANGED. It was ${first.fingerprint} and is now ${fingerprint}. ` +
            'Someone could be intercepting the connection, or the server was reinstalled. Reclaim refused to connect.',
          `Ask the server's admin to confirm the new key (on the server: ssh-keygen -lf ${serverKeyFile(type)}). ` +
            `Only if it matches ${fingerprint}, remove line ${first.line} of ${first.file} ` +
            `(ssh-keygen -R '${knownHostsName(host, port)}' -f '${first.file}') and connect again.`,
          { ...facts, known: verdict.known },
        );
        return false;
      }
      case 'unknown': {
        const firstUse = verdict.otherTypesKnown.length === 0;
        if (store.acceptNew && firstUse) break;
        const compare = `Compare ${fingerprint} with the server's own key (on the server: ssh-keygen -lf ${serverKeyFile(type)}).`;
        const unknownError = (declined: boolean) => new ReclaimError(
          'HOST_KEY_UNKNOWN',
          declined
            ? `You did not accept the identity key of ${where} (${type} ${fingerprint}), so Reclaim did not connect.`
            : `Reclaim has never seen the identity key of ${where} (${type} ${fingerprint}) and could not ask you to confirm it.`,
          // Someone who just said no needs the check, not a way around the question.
          declined
            ? `${compare} Connect again and answer yes only if they match; if they differ, someone may be intercepting the connection: ask the server's admin.`
            : `${compare} ` +
              (firstUse ? 'If they match, connect again and accept it (on the command line, --accept-new also accepts it).' : 'This server already had a key of another type on record, so accept it only after checking.'),
          { ...facts, otherTypesKnown: verdict.otherTypesKnown },
        );
        if (!prompter.confirmHostKey) {
          failure = unknownError(false);
          return false;
        }
        const yes = await askPerson(() =>
          prompter.confirmHostKey!({ host, port, keyType: type, fingerprint, otherTypesKnown: verdict.otherTypesKnown }),
        );
        if (yes === undefined) {
          failure = new ReclaimError('CANCELLED', `The question about the identity key of ${where} was cancelled, so Reclaim did not connect.`, 'Connect again when you are ready to check the key.');
          return false;
        }
        if (!yes) {
          failure = unknownError(true);
          return false;
        }
        break;
      }
    }
    if (verdict.kind !== 'trusted') {
      await recordHostKey(store.recordFile, host, port, key).catch((error: unknown) => {
        throw isReclaimError(error) ? error : storageFailed(store.recordFile, error);
      });
      prompter.notify?.({ kind: 'host-key-recorded', host, port, keyType: type, fingerprint, file: store.recordFile });
    }
    accepted = { type, fingerprint };
    return true;
  }

  return {
    verify(key, done) {
      decide(key).then(done, (error: unknown) => {
        failure = isReclaimError(error) ? error : new ReclaimError(
          'SSH_FAILED',
          `Reclaim could not check the identity key of ${where}: ${(error as Error).message}.`,
          'Check that the known_hosts files can be read, then try again.',
          { host, port },
          { cause: error },
        );
        done(false);
      });
    },
    failure: () => failure,
    accepted: () => accepted,
  };
}
