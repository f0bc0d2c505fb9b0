import { rememberSecrets, type Prompter } from '../ssh/prompter.js';
import type { PromptBroker } from './prompt-broker.js';

// What a person typed for a saved server (a password, a passphrase) is asked once and reused by
// the next attempt, a reconnect and Diagnose, until the connection that used it ends or the
// server is deleted. Memory only: a secret is saved to disk only through the vault, when asked.

export class ServerPrompters {
  private readonly prompters = new Map<string, Prompter>();

  constructor(private readonly broker: PromptBroker) {}

  for(profileId: string): Prompter {
    let prompter = this.prompters.get(profileId);
    if (!prompter) {
      prompter = rememberSecrets(this.broker.prompterFor(profileId));
      this.prompters.set(profileId, prompter);
    }
    return prompter;
  }

  forget(profileId: string): void {
    this.prompters.delete(profileId);
  }
}
