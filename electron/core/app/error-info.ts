import type { ErrorInfo, ProfileFields } from '../../shared/ipc-contract.js';
import { asReclaimError } from '../common/errors.js';
import { serverKeyFile } from '../ssh/host-keys/policy.js';
import type { KnownKey } from '../ssh/host-keys/known-hosts.js';

/** Anything thrown, as the window shows it: code, message, fix, and the facts a dialog needs. */
export function toErrorInfo(error: unknown): ErrorInfo {
  const reclaim = asReclaimError(error);
  const info: ErrorInfo = { code: reclaim.code, message: reclaim.message, fix: reclaim.fix };
  const details = reclaim.details;
  if (reclaim.code === 'BAD_INPUT' && typeof details.field === 'string') info.field = details.field as keyof ProfileFields;
  if (reclaim.code === 'HOST_KEY_CHANGED') {
    const known = (details.known as KnownKey[] | undefined)?.[0];
    if (known) {
      info.hostKey = {
        known: known.fingerprint,
        seen: String(details.fingerprint),
        file: known.file,
        line: known.line,
        serverCommand: `ssh-keygen -lf ${serverKeyFile(String(details.keyType))}`,
      };
    }
  }
  return info;
}
