// The one contract between the React UI and the rest of the app, in the style of GitHub
// Desktop's ipc-shared.ts: every request the UI can make (ReclaimApi), every event it can
// receive (ReclaimEvent), and the plain data they carry. The preload builds `window.reclaim`
// from API_METHODS, main routes the same names to the core, and the UI tests back the same API
// with the real core. Pure types and constants only: this file runs in all three places.

import type { ErrorCode } from './error-codes.js';

/** A failure as the UI shows it: what went wrong and what to do, never a stack trace. */
export interface ErrorInfo {
  /** Stable code (see README "Errors you may see"). */
  code: ErrorCode;
  message: string;
  fix: string;
  /** For a BAD_INPUT about one form field: which one. */
  field?: keyof ProfileFields;
  /** HOST_KEY_CHANGED: what was on record and what the server showed. */
  hostKey?: { known: string; seen: string; file: string; line: number; serverCommand: string };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export type AuthMethod = 'auto' | 'key' | 'password';

/** What the person types into the server form; everything is checked by main before use. */
export interface ProfileFields {
  name: string;
  /** Host name, IP address or ~/.ssh/config alias. */
  host: string;
  sshPort: number;
  /** Empty: from ~/.ssh/config, else this computer's user name. */
  user: string;
  auth: AuthMethod;
  /** Private key file, for auth 'key'. */
  keyPath: string;
  /** Jump host(s): `[user@]host[:port][,...]`, or empty. */
  jump: string;
  /** 127.0.0.1 port on this computer; 0 picks any free port. */
  localPort: number;
  /** Plex as seen from the server, `HOST:PORT`. */
  remote: string;
}

export interface ServerProfile extends ProfileFields {
  id: string;
  /** A password or passphrase is saved, encrypted by the OS (safeStorage), for this server. */
  hasSavedSecret: boolean;
}

export const DEFAULT_PROFILE: ProfileFields = {
  name: '',
  host: '',
  sshPort: 22,
  user: '',
  auth: 'auto',
  keyPath: '',
  jump: '',
  localPort: 8888,
  remote: '127.0.0.1:32400',
};

/** The real steps of connecting, in order. */
export type ConnectStep = 'connecting' | 'verifying-host-key' | 'signing-in' | 'opening-forward' | 'checking-plex';
export const CONNECT_STEPS: readonly ConnectStep[] = ['connecting', 'verifying-host-key', 'signing-in', 'opening-forward', 'checking-plex'];

export interface HostKeyInfo {
  type: string;
  /** SHA256 fingerprint exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface ServerStatus {
  friendlyName?: string;
  version: string;
  claimed: boolean;
  machineIdentifier: string;
  /** The plex.tv account the server is signed in as, when it says so. */
  account?: string;
}

export interface Connection {
  profileId: string;
  localPort: number;
  /** http://127.0.0.1:<port>/web: the server's own Plex Web App, through the tunnel. */
  webUrl: string;
  hostKey: HostKeyInfo;
  /** null when Plex could not be read; statusError says why. */
  status: ServerStatus | null;
  statusError?: ErrorInfo;
}

export type Prompt =
  | {
      id: string;
      kind: 'host-key';
      profileId: string;
      host: string;
      port: number;
      hostKey: HostKeyInfo;
      /** The command that prints the same fingerprint on the server. */
      serverCommand: string;
      /** Keys of other types already on record for this host. */
      otherTypesKnown: HostKeyInfo[];
    }
  | {
      id: string;
      kind: 'secret';
      profileId: string;
      /** 'sudo': the password sudo asks on the server, to read or repair Plex's files as root (never saved). */
      secretKind: 'password' | 'passphrase' | 'sudo';
      /** `user@host` for a password, the key file for a passphrase, the account on the server for sudo. */
      subject: string;
      /** For sudo: what root is needed for, in words. */
      reason?: string;
      /** 2+ after a wrong answer. */
      attempt: number;
      /** Saving is offered only where the OS can encrypt it. */
      canRemember: boolean;
    }
  | {
      id: string;
      kind: 'keyboard-interactive';
      profileId: string;
      host: string;
      user: string;
      name: string;
      instructions: string;
      prompts: Array<{ prompt: string; echo: boolean }>;
    };

export type PromptAnswer =
  | { kind: 'host-key'; trust: boolean }
  | { kind: 'secret'; value: string | null; remember: boolean }
  | { kind: 'keyboard-interactive'; answers: string[] | null };

export type ClaimStep = 'checking' | 'signing-in' | 'waiting-for-plex' | 'fetching-claim-token' | 'claiming' | 'retrying' | 'verifying';

export type ClaimOutcome =
  | { outcome: 'already-claimed'; status: ServerStatus }
  | { outcome: 'claimed'; status: ServerStatus; account?: string };

export interface DiagnoseCheck {
  id: string;
  /** Short name of what was checked. */
  title: string;
  /** true passed, false failed, null not run. */
  ok: boolean | null;
  detail: string;
  fix?: string;
}

/** A line of the server's Plex log that means something, in words (tokens in it redacted). */
export interface LogFindingInfo {
  id: string;
  title: string;
  detail: string;
  fix: string;
  line: string;
  /** "just now", "5 minutes ago", by the server's clock. */
  age: string;
  count: number;
  /** Written before Plex's latest start, so it may be fixed already. */
  beforeLastStart: boolean;
}

/** One Plex install on the server. No token values: a sign-in is "set" or "missing". */
export interface InstallInfo {
  /** In words: "Linux package (deb/rpm) on Debian GNU/Linux 12 (bookworm)". */
  description: string;
  platform: string;
  /** Preferences file, registry key or defaults domain. */
  preferences: string;
  logs: string;
  /** How it is stopped and started. */
  service: string;
  runsAs: string | null;
  running: boolean | null;
  /** Where its data folder was learnt from, when it could have been moved. */
  dataDirSource?: string;
  machineIdentifier: string | null;
  /** The one answering through the tunnel. */
  chosen: boolean;
  notes: string[];
  /** Its Preferences could not be read (SUDO_REQUIRED, SUDO_REFUSED, PLEX_PREFERENCES_UNREADABLE…). */
  problem?: { code: ErrorCode; message: string; fix: string };
  signIn: { token: 'set' | 'missing'; username: string | null; accepted: boolean | null; detail: string; fix?: string };
  findings: LogFindingInfo[];
  logProblem?: string;
}

export interface NoticeInfo {
  title: string;
  detail: string;
  fix?: string;
}

/** What Reclaim found of the server's Plex install(s), over the connection's SSH session. */
export interface ServerInspection {
  installs: InstallInfo[];
  /** Which install answers through the tunnel, and how that was told, in words. */
  choice: string;
  /** Plex is still starting (or waking from sleep): wait, nothing to repair. */
  starting?: NoticeInfo;
  notes: NoticeInfo[];
}

/** The steps of a repair of the server's Plex sign-in (or of its undo), in the order they run. */
export type RepairStep = 'stop' | 'backup' | 'write' | 'start' | 'claim' | 'verify';

/** What a repair (or undo) will do, shown before anything changes. */
export interface RepairPlanInfo {
  action: 'repair' | 'undo';
  /** The install, in words ("Linux package (deb/rpm) on Debian…"). */
  install: string;
  preferences: string;
  /** Where the Preferences as they are now will be backed up. */
  backup: string;
  steps: Array<{ step: RepairStep; text: string }>;
  notes: string[];
  /** Repair: the way (sign out then claim, or offline), why, and whose server it becomes. */
  mode?: 'signout' | 'offline';
  why?: string;
  accountText?: string;
  current?: { username?: string; accepted: boolean | null };
  keeps?: string[];
  certificate?: string;
  /** Undo: the backup put back. */
  restore?: string;
  /** What Reclaim found of a repair that was cut off earlier, and did about it. */
  recovered?: string;
}

export type RepairOutcome =
  | { outcome: 'repaired'; account?: string; backup: string; warnings: string[]; status?: ServerStatus }
  | { outcome: 'restored'; restored: string; backup: string; status?: ServerStatus };

/** What the person asks to plan: a repair (the way, the certificate) or an undo. */
export interface RepairRequest {
  undo: boolean;
  mode: 'auto' | 'signout' | 'offline';
  /** Leave the server's cached certificate where it is (it is set aside after a revoked sign-in). */
  keepCertificate: boolean;
}

/** How the person goes ahead with the plan: sign in with Plex, a claim token, or (for undo) just yes. */
export type RepairGoAhead = { signIn: 'window' | 'browser' } | { claimToken: string } | { undo: true };

/** What is under way, for a window that (re)loads while tunnels run or questions wait. */
export interface AppState {
  connections: Connection[];
  /** Servers still connecting. */
  connecting: string[];
  /** Questions still waiting for an answer. */
  prompts: Prompt[];
}

/** Where the UI keeps a place for the embedded Plex Web App, in CSS pixels of the window. */
export interface ViewBounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type ReclaimEvent =
  | { type: 'connect-step'; profileId: string; step: ConnectStep; hop: string }
  | { type: 'connected'; connection: Connection }
  | { type: 'reconnecting'; profileId: string; attempt: number; delayMs: number; message: string }
  | { type: 'warning'; profileId: string; message: string; fix: string }
  | { type: 'blocked'; profileId: string; reason: string }
  | { type: 'disconnected'; profileId: string; error?: ErrorInfo }
  | { type: 'prompt'; prompt: Prompt }
  /** The question is no longer waiting (answered, or the connection attempt ended). */
  | { type: 'prompt-closed'; id: string }
  | { type: 'claim-step'; profileId: string; step: ClaimStep }
  | { type: 'signin-url'; profileId: string; url: string }
  | { type: 'diagnose-check'; profileId: string; check: DiagnoseCheck }
  | { type: 'repair-step'; profileId: string; step: RepairStep; state: 'started' | 'done' }
  /** Something the repair did worth telling (the backup's path, a roll-back), in words. */
  | { type: 'repair-notice'; profileId: string; text: string; backup?: string };

/** Every request the UI can make. Each answers with a Result: failures are values, not throws. */
export interface ReclaimApi {
  listProfiles(): Promise<Result<ServerProfile[]>>;
  /** Field-by-field check for inline validation; the same check runs on save. */
  checkProfile(fields: ProfileFields): Promise<Result<null>>;
  /** id null creates a new profile. */
  saveProfile(id: string | null, fields: ProfileFields): Promise<Result<ServerProfile>>;
  deleteProfile(id: string): Promise<Result<null>>;
  /** Profiles made from the Host entries of ~/.ssh/config (not saved until the person saves one). */
  importSshConfig(): Promise<Result<ProfileFields[]>>;
  /** Profiles made from PuTTY's saved sessions (not saved until the person saves one). */
  importPuttySessions(): Promise<Result<ProfileFields[]>>;
  forgetSecret(id: string): Promise<Result<null>>;
  /** Tunnels, connection attempts and questions under way (a reloaded window picks up where it was). */
  currentState(): Promise<Result<AppState>>;
  /** Asks the person for a private key file with the system's file chooser; null if cancelled. */
  chooseKeyFile(): Promise<Result<string | null>>;
  /** Resolves once the tunnel serves (questions arrive as `prompt` events meanwhile). */
  connect(id: string): Promise<Result<Connection>>;
  disconnect(id: string): Promise<Result<null>>;
  /** Rebuild the SSH link now (after sleep or a network change). */
  reconnect(id: string): Promise<Result<null>>;
  answerPrompt(promptId: string, answer: PromptAnswer): Promise<Result<null>>;
  refreshStatus(id: string): Promise<Result<ServerStatus>>;
  /** Sign in with Plex (PIN, approved in a child window or the browser), then claim and verify. */
  claimWithPlex(id: string, signInWhere: 'window' | 'browser'): Promise<Result<ClaimOutcome>>;
  cancelSignIn(id: string): Promise<Result<null>>;
  claimWithToken(id: string, claimToken: string): Promise<Result<ClaimOutcome>>;
  diagnose(id: string): Promise<Result<DiagnoseCheck[]>>;
  /**
   * Looks at the server's Plex install over SSH (its own connection), takes the server's repair
   * lock and says what a repair (or an undo) would do. Nothing changes until repairGoAhead.
   */
  planRepair(id: string, request: RepairRequest): Promise<Result<RepairPlanInfo>>;
  /** Does what the plan said: steps arrive as repair-step events. */
  repairGoAhead(id: string, how: RepairGoAhead): Promise<Result<RepairOutcome>>;
  /** Drops a plan not gone ahead with (the lock is given back), or stops a sign-in still waiting. */
  cancelRepair(id: string): Promise<Result<null>>;
  /** Copies the last diagnose report and server inspection, secrets redacted, and returns the copied text. */
  copyDiagnoseReport(id: string): Promise<Result<string>>;
  /** Reads the connected server's Plex install over its SSH session (a sudo password is asked as a `prompt` if needed). */
  inspectServer(id: string): Promise<Result<ServerInspection>>;
  openInBrowser(id: string): Promise<Result<null>>;
  /** Place the embedded Plex Web App over these bounds, or take it off the window for now (null). */
  showPlexView(id: string, bounds: ViewBounds | null): Promise<Result<null>>;
  /** Move keyboard focus into the embedded Plex Web App (Tab cannot reach a separate view). */
  focusPlexView(id: string): Promise<Result<null>>;
}

export type ApiMethod = keyof ReclaimApi;

type Unwrapped<R> = R extends Promise<Result<infer T>> ? T : never;
/** The same API as main implements it: plain values back, failures thrown (and wrapped by the router). */
export type ReclaimHandlers = { [M in ApiMethod]: (...args: Parameters<ReclaimApi[M]>) => Promise<Unwrapped<ReturnType<ReclaimApi[M]>>> };

/** The exhaustive list, checked against ReclaimApi by the compiler. */
const METHODS: Record<ApiMethod, true> = {
  listProfiles: true,
  checkProfile: true,
  saveProfile: true,
  deleteProfile: true,
  importSshConfig: true,
  importPuttySessions: true,
  forgetSecret: true,
  currentState: true,
  chooseKeyFile: true,
  connect: true,
  disconnect: true,
  reconnect: true,
  answerPrompt: true,
  refreshStatus: true,
  claimWithPlex: true,
  cancelSignIn: true,
  claimWithToken: true,
  diagnose: true,
  planRepair: true,
  repairGoAhead: true,
  cancelRepair: true,
  copyDiagnoseReport: true,
  inspectServer: true,
  openInBrowser: true,
  showPlexView: true,
  focusPlexView: true,
};
export const API_METHODS = Object.keys(METHODS) as ApiMethod[];

/** IPC channel names: one per method, plus the event channel main sends on. */
export const channelFor = (method: ApiMethod): string => `reclaim:${method}`;
export const EVENT_CHANNEL = 'reclaim:event';

/** Facts about the desktop shell the window runs in, fixed for the life of the app. */
export interface ShellFacts {
  /**
   * false: the app runs without Chromium's OS sandbox (started with --no-sandbox, for one), so
   * main shows no remote page (the Plex view, plex.tv sign-in) and the UI says why.
   */
  sandboxed: boolean;
}

/** Main adds this to the preload's process.argv when the sandbox is off (Electron's additionalArguments). */
export const SANDBOX_OFF_ARGUMENT = '--reclaim-sandbox-off';

/** What the preload exposes as `window.reclaim`. */
export interface ReclaimBridge extends ReclaimApi {
  /** Returns the function that stops listening. */
  onEvent(listener: (event: ReclaimEvent) => void): () => void;
  readonly shell: ShellFacts;
}
