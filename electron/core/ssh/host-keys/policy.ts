import { isReclaimError, ReclaimError, storageFailed } from '../../common/errors.js';
import {
  checkHostKey,
  fingerprintSha256,
  hostKeyType,
  knownHostsName,
  knownKeyTypes,
  recordHostKey,
  type HostKeyVerdict,
  type KnownKey,
} from './known-hosts.js';
import { checkPuttyHostKey, PUTTY_HOST_KEYS_KEY, puttyKeysFor, readPuttyHostKeys, type PuttyHostKey } from '../putty/host-keys.js';
import type { PuttyStorage } from '../putty/storage.js';
import type { AskPerson } from '../auth.js';
import type { Prompter } from '../prompter.js';
import { formatHostPort } from '../../common/target.js';

// Deciding whether to trust a server's host key, as OpenSSH does with StrictHostKeyChecking=ask
// (or accept-new): a known key passes; an unknown one is shown to the person, or refused when
// nobody can be asked; a changed or revoked one is refused, always, with the line to fix. The keys
// PuTTY trusts count as known too, so a PuTTY user is not asked again about a familiar server.

export interface HostKeyStore {
  /** Files read for trust decisions, in order (the user's known_hosts first). */
  trustFiles: string[];
  /** Where a newly accepted key is written: Reclaim's own file unless --known-hosts names one. */
  recordFile: string;
  /** Record an unknown key on first use without asking, like StrictHostKeyChecking=accept-new. */
  acceptNew: boolean;
  /** Where PuTTY keeps the host keys it trusts, read as further known keys (never written). */
  putty?: PuttyStorage;
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
  const types = [...(await knownKeyTypes(store.trustFiles, host, port)), ...(await puttyKeys(store, host, port)).map((key) => key.type)];
  const known = types.flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);
  return [...new Set([...known, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

async function puttyKeys(store: HostKeyStore, host: string, port: number): Promise<PuttyHostKey[]> {
  return store.putty ? puttyKeysFor(await readPuttyHostKeys(store.putty), host, port) : [];
}

/** The known_hosts verdict joined with PuTTY's: a key either trusts is trusted, as for two known_hosts files. */
function withPuttyVerdict(files: HostKeyVerdict, putty: HostKeyVerdict): HostKeyVerdict {
  if (files.kind === 'revoked' || files.kind === 'trusted') return files;
  if (putty.kind === 'trusted') return putty;
  const known = (verdict: HostKeyVerdict): KnownKey[] => (verdict.kind === 'changed' ? verdict.known : []);
  if (files.kind === 'changed' || putty.kind === 'changed') return { kind: 'changed', known: [...known(files), ...known(putty)] };
  const others = (verdict: HostKeyVerdict): KnownKey[] => (verdict.kind === 'unknown' ? verdict.otherTypesKnown : []);
  return { kind: 'unknown', otherTypesKnown: [...others(files), ...others(putty)] };
}

/** How to replace the old key once the admin has confirmed the new one: in PuTTY's store, or the known_hosts line. */
function replaceOldKey(first: KnownKey, putty: PuttyHostKey[], host: string, port: number): string {
  const fromPutty = putty.find((key) => key.file === first.file && key.line === first.line && key.fingerprint === first.fingerprint);
  if (!fromPutty) return `remove line ${first.line} of ${first.file} (ssh-keygen -R '${knownHostsName(host, port)}' -f '${first.file}')`;
  const where = first.file === PUTTY_HOST_KEYS_KEY
    ? `delete the value ${fromPutty.entry} under ${PUTTY_HOST_KEYS_KEY} with regedit`
    : `remove line ${first.line} (${fromPutty.entry}) of ${first.file}`;
  return `let PuTTY replace the old key it keeps (connect with PuTTY and accept the new key when it warns), or ${where}`;
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
    const putty = await puttyKeys(store, host, port);
    const verdict = withPuttyVerdict(await checkHostKey(store.trustFiles, host, port, key), checkPuttyHostKey(putty, key));
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
            `Only if it matches ${fingerprint}, ${replaceOldKey(first, putty, host, port)} and connect again.`,
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
        // Ours already say what is wrong and what to do (a known_hosts path that is a directory).
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
