import os from 'node:os';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { printable } from '../core/common/errors.js';
import { serverKeyFile } from '../core/ssh/host-keys/policy.js';
import type { LoginNotice, Prompter } from '../core/ssh/prompter.js';
import { wrapText } from './output.js';

// Questions asked on the terminal, worded like OpenSSH's so people who know ssh recognise them.
// Secrets are read with echo off. Ctrl+C or Ctrl+D while asked cancels the login; it is not an
// answer ("no", a wrong password).

const MAX_YES_NO_TRIES = 5;

class MutableOutput extends Writable {
  muted = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (!this.muted) process.stderr.write(chunk);
    done();
  }
}

/** Resolves to undefined when the person cancels (Ctrl+C, Ctrl+D). */
export function ask(text: string, hidden: boolean): Promise<string | undefined> {
  const output = new MutableOutput();
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    let answered = false;
    rl.question(text, (answer) => {
      answered = true;
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer);
    });
    // Muted only after the prompt is out: readline redraws the line on every key, and for a
    // secret nothing of that redraw (the typed characters) may reach the screen.
    output.muted = hidden;
    rl.once('SIGINT', () => rl.close());
    rl.once('close', () => {
      if (!answered) {
        process.stderr.write('\n');
        resolve(undefined);
      }
    });
  });
}

/** A path under the home folder as people write it: ~/.ssh/id_ed25519. */
function homePath(file: string): string {
  const home = os.homedir();
  return home && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

function describe(notice: LoginNotice): string {
  switch (notice.kind) {
    case 'host-key-recorded':
      return `Recorded the ${notice.keyType} key of ${notice.host}${notice.port === 22 ? '' : `:${notice.port}`} in ${homePath(notice.file)}; Reclaim will not ask about it again.`;
    case 'key-given-up':
      return `Wrong passphrase for ${homePath(notice.file)} ${notice.attempts} times: going on without that key.`;
  }
}

export function terminalPrompter(): Prompter {
  return {
    async confirmHostKey(question) {
      const lines = [
        `The authenticity of host '${question.host}${question.port === 22 ? '' : `:${question.port}`}' can't be established.`,
        `${question.keyType} key fingerprint is ${question.fingerprint}.`,
        ...question.otherTypesKnown.map((known) =>
          // Line 0: PuTTY's registry, which has no lines.
          `Note: a ${known.type} key (${known.fingerprint}) is already on record for this host in ${known.line > 0 ? `${known.file}:${known.line}` : known.file}.`),
        `To check it, run on the server: ssh-keygen -lf ${serverKeyFile(question.keyType)}`,
      ];
      process.stderr.write(`${lines.join('\n')}\n`);
      for (let tries = 0; tries < MAX_YES_NO_TRIES; tries++) {
        const answer = await ask('Are you sure you want to continue connecting (yes/no)? ', false);
        if (answer === undefined) return undefined;
        if (/^yes$/i.test(answer.trim())) return true;
        if (/^no$/i.test(answer.trim())) return false;
        process.stderr.write('Please type \'yes\' or \'no\'.\n');
      }
      return false;
    },
    async askSecret(question) {
      if (question.attempt > 1) {
        const which = question.kind === 'password' ? `password for ${question.subject}` : `passphrase for ${homePath(question.subject)}`;
        process.stderr.write(`Wrong ${which}, try ${question.attempt}${question.attempts ? ` of ${question.attempts}` : ''}.\n`);
      }
      const text = question.kind === 'password'
        ? `${question.subject}'s password: `
        : `Enter passphrase for key '${homePath(question.subject)}': `;
      return ask(text, true);
    },
    async answerKeyboardInteractive(question) {
      // Everything here was written by the server, so it is shown without control characters.
      if (question.name) process.stderr.write(`${printable(question.name)}\n`);
      if (question.instructions) process.stderr.write(`${printable(question.instructions)}\n`);
      const answers: string[] = [];
      for (const prompt of question.prompts) {
        const answer = await ask(printable(prompt.prompt), !prompt.echo);
        if (answer === undefined) return undefined;
        answers.push(answer);
      }
      return answers;
    },
    notify(notice) {
      process.stderr.write(`${wrapText(describe(notice), process.stderr.isTTY ? process.stderr.columns : undefined)}\n`);
    },
  };
}
