import { printable, ReclaimError } from '../common/errors.js';
import { RemoteTimeoutError, type RemoteResult, type RunOptions } from '../ssh/remote-exec.js';
import { commandFailed, posixCommand, type ServerShell } from './server-shell.js';

// Running a script as the SSH user, or as root when the server keeps Plex's files from that user.
// Root comes from the login itself (uid 0), then `sudo -n`, then `sudo -S` with the password
// written to sudo's standard input: never in the command line, never in an environment variable
// of the remote command, never in output or logs. A refusal is remembered, so a wrong password is
// tried once and cannot lock the account by repeating.

/** Asked only when root is needed; says why. undefined means "no password": Reclaim stops there. */
export type SudoPasswordAsker = (request: { user: string; reason: string }) => Promise<string | undefined>;

export type SudoPassword = string | SudoPasswordAsker;

/** The first thing a script prints once sudo has let it run, so sudo's failures are told from the script's. */
const ROOT_MARK = 'reclaim-as-root';
const SUDO_TIMEOUT_MS = 30_000;

type RootWay = 'login' | 'sudo' | 'sudo-password';

export class Privilege {
  private account?: Promise<{ user: string; uid: number }>;
  private rootWay?: RootWay;
  private refusal?: ReclaimError;
  private password?: string;

  constructor(readonly shell: ServerShell, private readonly sudoPassword?: SudoPassword) {}

  /** Runs a POSIX script as the SSH user. */
  async asUser(script: string, what: string, options: RunOptions = {}): Promise<RemoteResult> {
    try {
      return await this.shell(posixCommand(script), options);
    } catch (error) {
      throw commandFailed(what, error);
    }
  }

  /** The SSH account, from `id`. */
  whoAmI(): Promise<{ user: string; uid: number }> {
    this.account ??= this.asUser('printf "%s %s\\n" "$(id -u)" "$(id -un)"', 'find out who your SSH account is', { timeoutMs: 15_000 })
      .then((result) => {
        const match = /^(\d+) (\S+)/.exec(result.stdout.trim());
        if (!match) throw new ReclaimError('SERVER_COMMAND_FAILED', 'Reclaim could not tell which account it is signed in as on the server ("id" gave no answer it understands).', 'Check that your SSH account has a POSIX shell (sh, bash, zsh, ash), then try again.');
        return { uid: Number(match[1]), user: match[2]! };
      });
    return this.account;
  }

  /**
   * Runs a POSIX script as root. `reason` says, in words, what root is needed for; it is shown
   * when a password is asked for and in the error when root cannot be had.
   */
  async asRoot(script: string, what: string, reason: string, options: RunOptions = {}): Promise<RemoteResult> {
    if (this.refusal) throw this.refusal;
    const { user, uid } = await this.whoAmI();
    if (uid === 0) return this.asUser(script, what, options);
    const marked = `printf '${ROOT_MARK}\\000'\n${script}`;
    if (this.rootWay === undefined || this.rootWay === 'sudo') {
      const result = await this.sudo(`sudo -n -- ${posixCommand(marked)}`, what, options);
      if (result.ok) {
        this.rootWay = 'sudo';
        return result.result;
      }
      if (!/password is required|a terminal is required/i.test(result.result.stderr)) throw this.refuse(classify(result.result, user, false));
    }
    const password = await this.passwordFor(user, reason);
    // sudo reads the password line from standard input (-S), never from its command line, and
    // hands the rest of its standard input to the script.
    const stdin = `${password}\n${options.stdin ?? ''}`;
    const result = await this.sudo(`sudo -S -p '' -- ${posixCommand(marked)}`, what, { ...options, stdin });
    if (result.ok) {
      this.rootWay = 'sudo-password';
      return result.result;
    }
    throw this.refuse(classify(result.result, user, true, password));
  }

  private async passwordFor(user: string, reason: string): Promise<string> {
    if (this.password !== undefined) return this.password;
    const given = typeof this.sudoPassword === 'function' ? await this.sudoPassword({ user, reason }) : this.sudoPassword;
    if (given === undefined || given === '') {
      throw this.refuse(new ReclaimError(
        'SUDO_REQUIRED',
        `Reclaim needs root on the server to ${reason}, and sudo asks ${user} for a password.`,
        'Give your sudo password when Reclaim asks (on the command line: --sudo-password-env NAME, with the password in environment variable NAME), or sign in as root or as the account Plex runs as.',
        { user },
      ));
    }
    if (/[\r\n]/.test(given)) {
      throw new ReclaimError('BAD_INPUT', 'The sudo password has a line break in it, which sudo cannot take.', 'Type the password again without a line break.');
    }
    this.password = given;
    return given;
  }

  private async sudo(command: string, what: string, options: RunOptions): Promise<{ ok: boolean; result: RemoteResult }> {
    let result: RemoteResult;
    try {
      result = await this.shell(command, { ...options, timeoutMs: Math.min(options.timeoutMs ?? SUDO_TIMEOUT_MS, SUDO_TIMEOUT_MS) });
    } catch (error) {
      if (error instanceof RemoteTimeoutError) {
        throw this.refuse(new ReclaimError(
          'SUDO_REFUSED',
          `sudo on the server did not answer within ${Math.round(error.timeoutMs / 1000)} s (it may be waiting for a second factor or a terminal).`,
          'Sign in as root or as the account Plex runs as, or allow your account to run sudo without a terminal, then try again.',
          { reason: 'timeout' },
        ));
      }
      throw commandFailed(what, error);
    }
    const marked = result.stdout.startsWith(`${ROOT_MARK}\u0000`);
    return { ok: marked, result: marked ? { ...result, stdout: result.stdout.slice(ROOT_MARK.length + 1) } : result };
  }

  private refuse(error: ReclaimError): ReclaimError {
    this.refusal = error;
    return error;
  }
}

/** Why sudo did not run the script, from what it printed. */
function classify(result: RemoteResult, user: string, triedPassword: boolean, password?: string): ReclaimError {
  // sudo never echoes the password, but what is shown must not hold it even if a PAM module did.
  const said = excerpt(password ? result.stderr.split(password).join('[redacted]') : result.stderr);
  if (result.exitCode === 127 || /sudo: (command )?not found|sudo: No such file/i.test(result.stderr)) {
    return new ReclaimError(
      'SUDO_REQUIRED',
      `Reclaim needs root on the server, and sudo is not installed there${said ? ` (${said})` : ''}.`,
      'Sign in as root, or as the account Plex runs as, or install sudo on the server.',
      { user },
    );
  }
  if (/not in the sudoers|not allowed to (run|execute)|may not run sudo/i.test(result.stderr)) {
    return new ReclaimError(
      'SUDO_REFUSED',
      `The server does not let ${user} use sudo${said ? ` (it said: "${said}")` : ''}.`,
      'Sign in as root or as the account Plex runs as, or ask the server\'s administrator to add your account to sudoers (e.g. the sudo or wheel group).',
      { user, reason: 'not-allowed' },
    );
  }
  if (/must have a tty|terminal is required/i.test(result.stderr)) {
    return new ReclaimError(
      'SUDO_REFUSED',
      'sudo on the server insists on a terminal (requiretty), which Reclaim\'s commands do not have.',
      'Sign in as root or as the account Plex runs as, or remove "Defaults requiretty" for your account (visudo).',
      { user, reason: 'tty' },
    );
  }
  if (triedPassword && /incorrect password|try again|no password was provided|authentication failure|password.*wrong/i.test(result.stderr)) {
    return new ReclaimError(
      'SUDO_REFUSED',
      `sudo on the server did not accept the password for ${user}.`,
      'Check the password (it is your account\'s password on the server, which may differ from the one you signed in with) and try again. Reclaim tries it only once, so it cannot lock your account.',
      { user, reason: 'wrong-password' },
    );
  }
  return new ReclaimError(
    'SUDO_REFUSED',
    `sudo on the server would not run Reclaim's command${said ? ` (it said: "${said}")` : ` (exit status ${result.exitCode ?? 'none'})`}.`,
    'Sign in as root or as the account Plex runs as, or check your sudo settings on the server.',
    { user, reason: 'other' },
  );
}

function excerpt(text: string): string {
  return printable(text).replace(/\s+/g, ' ').trim().slice(0, 200);
}

