import { randomUUID } from 'node:crypto';
import type { Prompt, PromptAnswer, ReclaimEvent } from '../../shared/ipc-contract.js';
import { badInput } from '../common/errors.js';
import { serverKeyFile } from '../ssh/host-keys/policy.js';
import type { Prompter } from '../ssh/prompter.js';
import type { SecretVault } from './secret-vault.js';

// The SSH layer's questions (trust this key? password? 2FA code?) turned into `prompt` events
// for the window, and the person's answers routed back. A question stays open until it is
// answered or its connection attempt ends; nothing waits forever on a closed dialog.

type Pending = { prompt: Prompt; settle: (answer: PromptAnswer | undefined) => void };

export class PromptBroker {
  private readonly waiting = new Map<string, Pending>();

  constructor(
    private readonly emit: (event: ReclaimEvent) => void,
    private readonly vault: SecretVault,
  ) {}

  /** The prompter for one connection to one saved server. */
  prompterFor(profileId: string): Prompter {
    return {
      confirmHostKey: async (question) => {
        const answer = await this.ask({
          id: randomUUID(),
          kind: 'host-key',
          profileId,
          host: question.host,
          port: question.port,
          hostKey: { type: question.keyType, fingerprint: question.fingerprint },
          serverCommand: `ssh-keygen -lf ${serverKeyFile(question.keyType)}`,
          otherTypesKnown: question.otherTypesKnown.map((known) => ({ type: known.type, fingerprint: known.fingerprint })),
        });
        return answer?.kind === 'host-key' && answer.trust;
      },
      askSecret: async (question) => {
        const saved = await this.vault.load(profileId);
        if (question.attempt === 1 && saved && saved.kind === question.kind && saved.subject === question.subject) return saved.secret;
        const answer = await this.ask({
          id: randomUUID(),
          kind: 'secret',
          profileId,
          secretKind: question.kind,
          subject: question.subject,
          attempt: question.attempt,
          canRemember: this.vault.canSave(),
        });
        if (answer?.kind !== 'secret' || answer.value === null) return undefined;
        if (answer.remember && this.vault.canSave()) {
          await this.vault.save(profileId, { kind: question.kind, subject: question.subject, secret: answer.value });
        } else if (saved && saved.kind === question.kind && saved.subject === question.subject) {
          // The saved one was just proven wrong and the person chose not to save the new one.
          await this.vault.forget(profileId);
        }
        return answer.value;
      },
      answerKeyboardInteractive: async (question) => {
        const answer = await this.ask({
          id: randomUUID(),
          kind: 'keyboard-interactive',
          profileId,
          host: question.host,
          user: question.user,
          name: question.name,
          instructions: question.instructions,
          prompts: question.prompts,
        });
        return answer?.kind === 'keyboard-interactive' && answer.answers !== null ? answer.answers : undefined;
      },
    };
  }

  /**
   * The sudo password for a repair on the server: asked each time, never saved (the vault holds
   * only how to log in). undefined when the person cancels.
   */
  async askSudoPassword(profileId: string, subject: string): Promise<string | undefined> {
    const answer = await this.ask({ id: randomUUID(), kind: 'secret', profileId, secretKind: 'password', subject, attempt: 1, canRemember: false, purpose: 'sudo' });
    return answer?.kind === 'secret' && answer.value !== null ? answer.value : undefined;
  }

  /** The questions still open, oldest first. */
  pending(): Prompt[] {
    return [...this.waiting.values()].map((open) => open.prompt);
  }

  answer(promptId: string, answer: PromptAnswer): void {
    const pending = this.waiting.get(promptId);
    if (!pending) {
      throw badInput('That question is no longer waiting for an answer (the connection attempt ended).', 'Connect again.');
    }
    if (pending.prompt.kind !== answer.kind) {
      throw badInput(`The answer does not fit the question (${answer.kind} for ${pending.prompt.kind}).`, 'Answer the question shown.');
    }
    if (answer.kind === 'keyboard-interactive' && pending.prompt.kind === 'keyboard-interactive'
      && answer.answers !== null && answer.answers.length !== pending.prompt.prompts.length) {
      throw badInput('Every field of the question needs an answer.', 'Fill in each field, or cancel.');
    }
    this.settle(promptId, answer);
  }

  /** The connection attempt for this server ended: its open questions count as cancelled. */
  cancelFor(profileId: string): void {
    for (const [id, pending] of this.waiting) {
      if (pending.prompt.profileId === profileId) this.settle(id, undefined);
    }
  }

  private ask(prompt: Prompt): Promise<PromptAnswer | undefined> {
    return new Promise((resolve) => {
      this.waiting.set(prompt.id, { prompt, settle: resolve });
      this.emit({ type: 'prompt', prompt });
    });
  }

  private settle(id: string, answer: PromptAnswer | undefined): void {
    const pending = this.waiting.get(id);
    if (!pending) return;
    this.waiting.delete(id);
    this.emit({ type: 'prompt-closed', id });
    pending.settle(answer);
  }
}
