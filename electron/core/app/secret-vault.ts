// Where a password or passphrase goes when, and only when, the person ticks "remember": the
// desktop app backs this with Electron's safeStorage (the OS keychain / DPAPI / libsecret), so
// nothing is ever written in plain text. One secret per saved server, for one question.

export interface SavedSecret {
  kind: 'password' | 'passphrase';
  /** `user@host` or the key file: the question this secret answers. */
  subject: string;
  secret: string;
}

export interface SecretVault {
  /**
   * False where the OS offers no real encryption (then "remember" is not offered). Asked each
   * time, since a keychain can be locked or unlocked while Reclaim runs.
   */
  canSave(): Promise<boolean>;
  load(profileId: string): Promise<SavedSecret | undefined>;
  save(profileId: string, saved: SavedSecret): Promise<void>;
  forget(profileId: string): Promise<void>;
  has(profileId: string): Promise<boolean>;
}
