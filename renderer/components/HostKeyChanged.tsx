import type { ErrorInfo } from '../../electron/shared/ipc-contract.js';

/** A changed server key blocks the connection. There is deliberately no way to ignore it here. */
export function HostKeyChanged(props: { error: ErrorInfo }) {
  const key = props.error.hostKey;
  return (
    <section className="error-box host-key-changed" role="alert" aria-label="Server identity changed">
      <h3>Warning: this server's identity key has changed</h3>
      <p>
        Reclaim refused to connect. Either the server was reinstalled or its SSH keys were replaced, or someone is
        intercepting the connection. Do not continue until you know which.
      </p>
      {key && (
        <dl className="key-compare">
          <div><dt>Key on record</dt><dd><code>{key.known}</code></dd></div>
          <div><dt>Key the server showed now</dt><dd><code>{key.seen}</code></dd></div>
        </dl>
      )}
      <p className="error-fix"><strong>What to do:</strong> {props.error.fix}</p>
      {key && (
        <>
          <p>On the server, this prints its current key:</p>
          <pre className="command"><code>{key.serverCommand}</code></pre>
          {/* PuTTY's registry has no lines: there the key is a value in a registry key. */}
          <p>{key.line > 0 ? <>The old key is on line {key.line} of </> : <>The old key is in </>}<code>{key.file}</code>.</p>
        </>
      )}
      <p className="error-code">Error code: <code>{props.error.code}</code></p>
    </section>
  );
}
