import {
  API_METHODS,
  type ApiMethod,
  type AuthMethod,
  type ProfileFields,
  type PromptAnswer,
  type ReclaimApi,
  type ReclaimHandlers,
  type Result,
  type ViewBounds,
} from '../../shared/ipc-contract.js';
import { badInput, isReclaimError } from '../common/errors.js';
import { log } from '../common/log.js';
import { toErrorInfo } from './error-info.js';

// The one door from the window into the core. Whatever arrives over IPC is untrusted (a page
// could be compromised), so every argument is checked for shape and size here, before any core
// code sees it, and every outcome goes back as a Result: no exception crosses the bridge (an
// unexpected one goes to the log, with its stack).

type Args<M extends ApiMethod> = Parameters<ReclaimApi[M]>;
type Checker<M extends ApiMethod> = (args: unknown[]) => Args<M>;

const MAX_TEXT = 4096;
const AUTH_METHODS: readonly AuthMethod[] = ['auto', 'key', 'password'];
const PROFILE_TEXT_FIELDS = ['name', 'host', 'user', 'keyPath', 'jump', 'remote'] as const;

function fail(what: string): never {
  throw badInput(`The window sent a request Reclaim cannot use (${what}).`, 'Reload the window (Ctrl+R) and try again.');
}

function count(args: unknown[], expected: number): void {
  if (args.length !== expected) fail(`expected ${expected} argument(s), got ${args.length}`);
}

function id(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(value)) fail('bad id');
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT) fail(`bad ${what}`);
  return value;
}

function profileFields(value: unknown): ProfileFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('server details are not an object');
  const input = value as Record<string, unknown>;
  const fields = {} as Record<string, unknown>;
  for (const name of PROFILE_TEXT_FIELDS) fields[name] = text(input[name], name);
  for (const name of ['sshPort', 'localPort'] as const) {
    // An empty or out-of-range number (NaN included) gets the form's own friendly error later.
    if (typeof input[name] !== 'number') fail(`${name} is not a number`);
    fields[name] = input[name];
  }
  if (!AUTH_METHODS.includes(input.auth as AuthMethod)) fail('unknown sign-in method');
  fields.auth = input.auth;
  return fields as unknown as ProfileFields;
}

function promptAnswer(value: unknown): PromptAnswer {
  const answer = value as Record<string, unknown> | null;
  if (typeof answer !== 'object' || answer === null) fail('answer is not an object');
  switch (answer.kind) {
    case 'host-key':
      if (typeof answer.trust !== 'boolean') fail('host key answer');
      return { kind: 'host-key', trust: answer.trust };
    case 'secret':
      if (answer.value !== null) text(answer.value, 'secret');
      if (typeof answer.remember !== 'boolean') fail('secret answer');
      return { kind: 'secret', value: answer.value as string | null, remember: answer.remember };
    case 'keyboard-interactive': {
      if (answer.answers === null) return { kind: 'keyboard-interactive', answers: null };
      if (!Array.isArray(answer.answers) || answer.answers.length > 16) fail('answers');
      return { kind: 'keyboard-interactive', answers: answer.answers.map((one) => text(one, 'answer')) };
    }
    default:
      fail('unknown answer kind');
  }
}

function bounds(value: unknown): ViewBounds | null {
  if (value === null) return null;
  const rect = value as Record<string, unknown>;
  if (typeof rect !== 'object') fail('view bounds');
  const numbers = ['x', 'y', 'width', 'height'].map((key) => rect[key]);
  // A box scrolled up or left has negative coordinates; sizes cannot be negative.
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) <= 100_000)) fail('view bounds');
  if ((numbers[2] as number) < 0 || (numbers[3] as number) < 0) fail('view bounds');
  const [x, y, width, height] = numbers.map((n) => Math.round(n as number)) as [number, number, number, number];
  return { x, y, width, height };
}

const noArgs = (args: unknown[]): [] => (count(args, 0), []);
const oneId = (args: unknown[]): [string] => (count(args, 1), [id(args[0])]);

const CHECKERS: { [M in ApiMethod]: Checker<M> } = {
  listProfiles: noArgs,
  checkProfile: (args) => (count(args, 1), [profileFields(args[0])]),
  saveProfile: (args) => (count(args, 2), [args[0] === null ? null : id(args[0]), profileFields(args[1])]),
  deleteProfile: oneId,
  importSshConfig: noArgs,
  importPuttySessions: noArgs,
  forgetSecret: oneId,
  currentState: noArgs,
  chooseKeyFile: noArgs,
  connect: oneId,
  disconnect: oneId,
  reconnect: oneId,
  answerPrompt: (args) => (count(args, 2), [id(args[0]), promptAnswer(args[1])]),
  refreshStatus: oneId,
  claimWithPlex: (args) => {
    count(args, 2);
    if (args[1] !== 'window' && args[1] !== 'browser') fail('sign-in place');
    return [id(args[0]), args[1]];
  },
  cancelSignIn: oneId,
  claimWithToken: (args) => (count(args, 2), [id(args[0]), text(args[1], 'claim token')]),
  diagnose: oneId,
  planRepair: (args) => {
    count(args, 2);
    const request = args[1] as Record<string, unknown> | null;
    if (typeof request !== 'object' || request === null || typeof request.undo !== 'boolean') fail('repair request');
    if (request.mode !== 'auto' && request.mode !== 'signout' && request.mode !== 'offline') fail('repair way');
    if (typeof request.keepCertificate !== 'boolean') fail('repair certificate choice');
    return [id(args[0]), { undo: request.undo, mode: request.mode, keepCertificate: request.keepCertificate }];
  },
  repairGoAhead: (args) => {
    count(args, 2);
    const how = args[1] as Record<string, unknown> | null;
    if (typeof how !== 'object' || how === null) fail('how to go ahead');
    if (how.signIn === 'window' || how.signIn === 'browser') return [id(args[0]), { signIn: how.signIn }];
    if (how.undo === true) return [id(args[0]), { undo: true }];
    if (typeof how.claimToken === 'string') return [id(args[0]), { claimToken: text(how.claimToken, 'claim token') }];
    return fail('how to go ahead');
  },
  cancelRepair: oneId,
  copyDiagnoseReport: oneId,
  inspectServer: oneId,
  openInBrowser: oneId,
  showPlexView: (args) => (count(args, 2), [id(args[0]), bounds(args[1])]),
  focusPlexView: oneId,
};

export function isApiMethod(method: unknown): method is ApiMethod {
  return typeof method === 'string' && (API_METHODS as string[]).includes(method);
}

/** Checks the arguments, runs the request, and wraps the outcome; never throws. */
export async function routeRequest(service: ReclaimHandlers, method: ApiMethod, args: unknown[]): Promise<Result<unknown>> {
  try {
    const checked = (CHECKERS[method] as Checker<ApiMethod>)(args);
    const run = service[method] as (...values: unknown[]) => Promise<unknown>;
    return { ok: true, value: await run.apply(service, checked) };
  } catch (error) {
    // Reclaim's own errors are the window's to show; anything else is a fault to look into later.
    if (!isReclaimError(error)) log.error(`request ${method} from the window`, error);
    return { ok: false, error: toErrorInfo(error) };
  }
}
