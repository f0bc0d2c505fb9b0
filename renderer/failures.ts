import type { ErrorInfo, Result } from '../electron/shared/ipc-contract.js';

// Every request that fails must reach the person. A part of the window that shows a failure
// where it happened (a form field, a panel) reads its own Result; any other request goes
// through reported(), whose failures appear in the window's notice area.

const failures = new EventTarget();

/** The request's result, after its error, if any, was shown in the notice area. */
export async function reported<T>(request: Promise<Result<T>>): Promise<Result<T>> {
  const result = await request;
  if (!result.ok) showFailure(result.error);
  return result;
}

export function showFailure(error: ErrorInfo): void {
  failures.dispatchEvent(new CustomEvent<ErrorInfo>('failure', { detail: error }));
}

/** For the notice area: called with each failure to show. Returns how to stop listening. */
export function onFailure(listener: (error: ErrorInfo) => void): () => void {
  const handler = (event: Event) => listener((event as CustomEvent<ErrorInfo>).detail);
  failures.addEventListener('failure', handler);
  return () => failures.removeEventListener('failure', handler);
}
