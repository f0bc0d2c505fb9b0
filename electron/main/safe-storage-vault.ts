import fs from 'node:fs/promises';
import { safeStorage } from 'electron';
import { writeFileAtomic } from '../core/common/atomic-file.js';
import { OneAtATime } from '../core/common/one-at-a-time.js';
import type { SavedSecret, SecretVault } from '../core/app/secret-vault.js';

// Saved passwords and passphrases, encrypted by the OS through safeStorage (Keychain on macOS,
// DPAPI on Windows, the desktop's secret service on Linux). Where Linux has no secret service,
// Electron falls back to a fixed key ("basic_text"), which is no protection: then nothing is saved.

export class SafeStorageVault implements SecretVault {
  private readonly changes = new OneAtATime();

  constructor(private readonly file: string) {}

  canSave(): boolean {
    if (!safeStorage.isEncryptionAvailable()) return false;
    return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
  }

  async load(profileId: string): Promise<SavedSecret | undefined> {
    const all = await this.read();
    const sealed = Object.hasOwn(all, profileId) ? all[profileId] : undefined;
    if (!sealed || !safeStorage.isEncryptionAvailable()) return undefined;
    try {
      return JSON.parse(safeStorage.decryptString(Buffer.from(sealed, 'base64'))) as SavedSecret;
    } catch {
      return undefined; // sealed by another user or machine: ask instead
    }
  }

  async save(profileId: string, saved: SavedSecret): Promise<void> {
    if (!this.canSave()) throw new Error('This computer offers no encrypted storage, so Reclaim does not save passwords.');
    await this.changes.run(async () => {
      const all = await this.read();
      all[profileId] = safeStorage.encryptString(JSON.stringify(saved)).toString('base64');
      await writeFileAtomic(this.file, JSON.stringify(all));
    });
  }

  async forget(profileId: string): Promise<void> {
    await this.changes.run(async () => {
      const all = await this.read();
      if (!Object.hasOwn(all, profileId)) return;
      delete all[profileId];
      await writeFileAtomic(this.file, JSON.stringify(all));
    });
  }

  async has(profileId: string): Promise<boolean> {
    return Object.hasOwn(await this.read(), profileId);
  }

  private async read(): Promise<Record<string, string>> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }
}
