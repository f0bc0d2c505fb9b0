import fs from 'node:fs/promises';
import { safeStorage } from 'electron';
import { writeFileAtomic } from '../core/common/atomic-file.js';
import { ReclaimError } from '../core/common/errors.js';
import { log } from '../core/common/log.js';
import { OneAtATime } from '../core/common/one-at-a-time.js';
import type { SavedSecret, SecretVault } from '../core/app/secret-vault.js';

// Saved passwords and passphrases, encrypted by the OS through safeStorage's asynchronous API
// (Keychain on macOS, DPAPI on Windows, the desktop's secret service on Linux); Electron 45
// deprecates the synchronous one and 46 removes it. Where Linux has no secret service, Electron
// falls back to a fixed key ("basic_text"), which is no protection: then nothing is saved.
// The file maps a saved server's id to its sealed secret, in base64.

export class SafeStorageVault implements SecretVault {
  private readonly changes = new OneAtATime();

  constructor(
    private readonly file: string,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  async canSave(): Promise<boolean> {
    if (!(await safeStorage.isAsyncEncryptionAvailable())) return false;
    return this.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
  }

  async load(profileId: string): Promise<SavedSecret | undefined> {
    const sealed = this.entry(await this.read(), profileId);
    // Locked or not ready: the entry may open later, so it is kept and the person asked instead.
    if (sealed === undefined || !(await safeStorage.isAsyncEncryptionAvailable())) return undefined;
    let opened: { saved: SavedSecret; text: string; shouldReEncrypt: boolean };
    try {
      opened = await open(sealed);
    } catch (error) {
      // Sealed by another user or machine, or damaged: it will never open, so the person is
      // asked instead and it is dropped (unless replaced meanwhile), not tried at every login.
      log.info(`vault: the saved secret of server ${profileId} cannot be decrypted (${error instanceof Error ? error.message : String(error)}); forgetting it`);
      await this.change(profileId, async (current) => (current === sealed ? undefined : current))
        .catch((failure: unknown) => log.error(`vault: could not forget the broken secret of server ${profileId}`, failure));
      return undefined;
    }
    // The OS rotated its key: seal it again with the new one, behind the connection that asked.
    if (opened.shouldReEncrypt) {
      void this.change(profileId, async (current) => (current === sealed ? await seal(this.file, opened.text) : current))
        .catch((failure: unknown) => log.error(`vault: could not re-encrypt the saved secret of server ${profileId}`, failure));
    }
    return opened.saved;
  }

  async save(profileId: string, saved: SavedSecret): Promise<void> {
    if (!(await this.canSave())) throw noEncryption(this.file);
    // Sealed inside the change, so that a forget asked after this save still happens after it.
    await this.change(profileId, () => seal(this.file, JSON.stringify(saved)));
  }

  async forget(profileId: string): Promise<void> {
    await this.change(profileId, async () => undefined);
  }

  async has(profileId: string): Promise<boolean> {
    return this.entry(await this.read(), profileId) !== undefined;
  }

  /**
   * One change to one entry, after every change asked for before it: `next` gets the entry as
   * it is now and gives what it becomes (undefined: removed). Nothing is written if it is the same.
   */
  private change(profileId: string, next: (current: unknown) => Promise<unknown>): Promise<void> {
    return this.changes.run(async () => {
      const all = await this.read();
      const current = this.entry(all, profileId);
      const updated = await next(current);
      if (updated === current) return;
      if (updated === undefined) delete all[profileId];
      else all[profileId] = updated;
      await writeFileAtomic(this.file, JSON.stringify(all));
    });
  }

  private entry(all: Record<string, unknown>, profileId: string): unknown {
    return Object.hasOwn(all, profileId) ? all[profileId] : undefined;
  }

  private async read(): Promise<Record<string, unknown>> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as unknown;
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
}

async function seal(file: string, text: string): Promise<string> {
  try {
    return (await safeStorage.encryptStringAsync(text)).toString('base64');
  } catch (error) {
    throw noEncryption(file, error);
  }
}

/** Throws, without the decrypted text in the error, for anything that is not a sealed SavedSecret. */
async function open(sealed: unknown): Promise<{ saved: SavedSecret; text: string; shouldReEncrypt: boolean }> {
  if (typeof sealed !== 'string') throw new Error('the entry is not sealed text');
  const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(Buffer.from(sealed, 'base64'));
  const saved = asSavedSecret(result);
  if (!saved) throw new Error('the decrypted entry is not a saved password or passphrase');
  return { saved, text: result, shouldReEncrypt };
}

function asSavedSecret(text: string): SavedSecret | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // JSON.parse's message quotes the text, which may be the secret itself
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { kind, subject, secret } = parsed as Record<string, unknown>;
  if ((kind !== 'password' && kind !== 'passphrase') || typeof subject !== 'string' || typeof secret !== 'string') return undefined;
  return { kind, subject, secret };
}

function noEncryption(file: string, cause?: unknown): ReclaimError<'STORAGE_FAILED'> {
  return new ReclaimError(
    'STORAGE_FAILED',
    'This computer offers no encrypted storage for passwords right now, so Reclaim did not save yours.',
    'Unlock your keychain (on Linux, start a secret service such as GNOME Keyring or KWallet), then tick Remember again; or type the password each time.',
    { file },
    { cause },
  );
}
