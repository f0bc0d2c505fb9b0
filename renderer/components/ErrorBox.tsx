import type { ReactNode } from 'react';
import type { ErrorInfo } from '../../electron/shared/ipc-contract.js';

/** A failure as the person needs it: what happened, what to do, and the code to search for. */
export function ErrorBox(props: { error: ErrorInfo; title?: string; onDismiss?(): void; children?: ReactNode }) {
  return (
    <section className="error-box" role="alert" aria-label={props.title ?? 'Problem'}>
      <h3>{props.title ?? 'Something went wrong'}</h3>
      <p className="error-message">{props.error.message}</p>
      <p className="error-fix"><strong>What to do:</strong> {props.error.fix}</p>
      <p className="error-code">Error code: <code>{props.error.code}</code></p>
      {(props.children || props.onDismiss) && (
        <div className="button-row">
          {props.children}
          {props.onDismiss && <button type="button" onClick={props.onDismiss}>Dismiss</button>}
        </div>
      )}
    </section>
  );
}
