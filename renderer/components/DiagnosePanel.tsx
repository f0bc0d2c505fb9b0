import { useEffect, useState } from 'react';
import type { DiagnoseCheck, ErrorInfo } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { ErrorBox } from './ErrorBox.js';
import { useServerEvents } from './use-server-events.js';

export function DiagnosePanel(props: { profileId: string; events: EventTarget; onClose(): void }) {
  const [checks, setChecks] = useState<DiagnoseCheck[]>([]);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [copied, setCopied] = useState(false);

  useServerEvents(props.events, props.profileId, (event) => {
    if (event.type === 'diagnose-check') setChecks((all) => [...all, event.check]);
  });

  const run = async () => {
    setChecks([]);
    setError(undefined);
    setCopied(false);
    setRunning(true);
    const result = await reclaim.diagnose(props.profileId);
    setRunning(false);
    if (result.ok) setChecks(result.value);
    else setError(result.error);
  };
  useEffect(() => {
    void run();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- run once when the panel opens
  }, []);

  const copy = async () => {
    const result = await reclaim.copyDiagnoseReport(props.profileId);
    if (result.ok) setCopied(true);
    else setError(result.error);
  };
  const failed = checks.filter((check) => check.ok === false).length;

  return (
    <aside className="side-panel diagnose" aria-labelledby="diagnose-title" aria-busy={running}>
      <h3 id="diagnose-title">Diagnose</h3>
      <p>Checks, link by link, what stands between you and a claimed server.</p>
      <ul className="checks">
        {checks.map((check) => (
          <li key={check.id} className={`check check-${check.ok === true ? 'ok' : check.ok === false ? 'fail' : 'skip'}`}>
            <span className="check-mark" aria-hidden="true">{check.ok === true ? '✓' : check.ok === false ? '✗' : '–'}</span>
            <div>
              <p className="check-title">
                {check.title}
                <span className="visually-hidden">{check.ok === true ? ': passed' : check.ok === false ? ': failed' : ': not checked'}</span>
              </p>
              <p className="check-detail">{check.detail}</p>
              {check.fix && check.ok === false && <p className="check-fix"><strong>Fix:</strong> {check.fix}</p>}
            </div>
          </li>
        ))}
      </ul>
      {running && <p role="status">Checking…</p>}
      {!running && checks.length > 0 && (
        <p role="status" className={failed ? 'warning-text' : 'success'}>
          {failed ? `${failed} check${failed > 1 ? 's' : ''} failed: follow the first fix first.` : 'No problems found.'}
        </p>
      )}
      {error && <ErrorBox error={error} title="Diagnose could not run" />}
      <div className="button-row">
        <button type="button" onClick={() => void run()} disabled={running}>Run again</button>
        <button type="button" onClick={() => void copy()} disabled={running || checks.length === 0}>{copied ? 'Report copied' : 'Copy report'}</button>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </aside>
  );
}
