import type { ErrorInfo } from '../../shared/ipc-contract.js';
import { asReclaimError } from '../common/errors.js';
import { serverKeyFile } from '../ssh/host-keys/policy.js';

/** Anything thrown, as the window shows it: code, message, fix, and the facts a dialog needs. */
export function toErrorInfo(error: unknown): ErrorInfo {
  const reclaim = asReclaimError(error);
  const info: ErrorInfo = { code: reclaim.code, message: reclaim.message, fix: reclaim.fix };
  if (reclaim.code === 'BAD_INPUT' && reclaim.details.field) info.field = reclaim.details.field;
  if (reclaim.code === 'HOST_KEY_CHANGED') {
    const { known, fingerprint, keyType } = reclaim.details;
    const first = known[0];
    if (first) {
      info.hostKey = { known: first.fingerprint, seen: fingerprint, file: first.file, line: first.line, serverCommand: `ssh-keygen -lf ${serverKeyFile(keyType)}` };
    }
  }
  return info;
}
