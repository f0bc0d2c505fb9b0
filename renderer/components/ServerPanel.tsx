import { useEffect, useState } from 'react';
import type { ErrorInfo, InstallInfo, ServerInspection } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { ErrorBox } from './ErrorBox.js';

// The "Server" section: the server's Plex install as Reclaim reads it over SSH (where it lives,
// who runs it, how it is started), whether plex.tv still accepts the server's own sign-in, and
// what its log says. It only reads. Tokens never reach the window: a sign-in is "set" or "missing".

export function ServerPanel(props: { profileId: string; onClose(): void }) {
  const [inspection, setInspection] = useState<ServerInspection | undefined>();
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [copied, setCopied] = useState(false);

  const run = async () => {
    setError(undefined);
    setCopied(false);
    setRunning(true);
    const result = await reclaim.inspectServer(props.profileId);
    setRunning(false);
    if (result.ok) setInspection(result.value);
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

  return (
    <aside className="side-panel server-panel" aria-labelledby="server-panel-title" aria-busy={running}>
      <h3 id="server-panel-title">Server</h3>
      <p>Plex Media Server as installed on the server: where it lives, its sign-in with plex.tv, and what its log says. Reclaim only reads; nothing is changed.</p>
      {running && <p role="status">Looking at the server…</p>}
      {error && <ErrorBox error={error} title="Could not look at the server" />}
      {inspection && !running && (
        <>
          {inspection.starting && (
            <div className="banner banner-warning" role="status">
              <span><strong>{inspection.starting.title}.</strong> {inspection.starting.detail} {inspection.starting.fix}</span>
            </div>
          )}
          <p className="muted">{inspection.choice}</p>
          {inspection.installs.map((install, index) => <Install key={index} install={install} />)}
          {inspection.notes.map((note, index) => (
            <p key={index} className="notice"><strong>{note.title}:</strong> {note.detail}{note.fix ? ` ${note.fix}` : ''}</p>
          ))}
        </>
      )}
      <div className="button-row">
        <button type="button" onClick={() => void run()} disabled={running}>Look again</button>
        <button type="button" onClick={() => void copy()} disabled={running || !inspection}>{copied ? 'Report copied' : 'Copy report'}</button>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </aside>
  );
}

function Install({ install }: { install: InstallInfo }) {
  const { signIn } = install;
  const signInState = signIn.accepted === true ? 'ok' : signIn.accepted === false ? 'fail' : 'skip';
  const current = install.findings.filter((finding) => !finding.beforeLastStart);
  const older = install.findings.filter((finding) => finding.beforeLastStart);
  return (
    <section className="install" aria-label={install.description}>
      <h4>{install.description}{install.chosen && <span className="badge badge-ok">answers through the tunnel</span>}</h4>
      <dl className="install-facts">
        <div><dt>Running</dt><dd>{install.running === true ? 'yes' : install.running === false ? 'no' : 'unknown'}{install.runsAs ? `, as ${install.runsAs}` : ''}</dd></div>
        <div><dt>Preferences</dt><dd><code className="wrap">{install.preferences}</code></dd></div>
        <div><dt>Logs</dt><dd><code className="wrap">{install.logs}</code></dd></div>
        <div><dt>Controlled by</dt><dd>{install.service}</dd></div>
        {install.dataDirSource && <div><dt>Data folder from</dt><dd>{install.dataDirSource}</dd></div>}
        {install.machineIdentifier && <div><dt>Machine</dt><dd><code className="wrap">{install.machineIdentifier}</code></dd></div>}
      </dl>
      {install.notes.map((note, index) => <p key={index} className="small-print">{note}</p>)}
      {install.problem && (
        <div className="check check-fail">
          <span className="check-mark" aria-hidden="true">✗</span>
          <div>
            <p className="check-title">Preferences could not be read</p>
            <p className="check-detail">{install.problem.message}</p>
            <p className="check-fix"><strong>Fix:</strong> {install.problem.fix}</p>
          </div>
        </div>
      )}
      <ul className="checks" aria-label="Sign-in and log">
        <li className={`check check-${signInState}`}>
          <span className="check-mark" aria-hidden="true">{signInState === 'ok' ? '✓' : signInState === 'fail' ? '✗' : '–'}</span>
          <div>
            <p className="check-title">
              Server's sign-in: token {signIn.token}{signIn.username ? `, account ${signIn.username}` : ''}
              <span className="visually-hidden">{signInState === 'ok' ? ': accepted' : signInState === 'fail' ? ': refused' : ': not checked'}</span>
            </p>
            <p className="check-detail">{signIn.detail}</p>
            {signIn.fix && signIn.accepted !== true && <p className="check-fix"><strong>Fix:</strong> {signIn.fix}</p>}
          </div>
        </li>
        {install.logProblem && (
          <li className="check check-skip">
            <span className="check-mark" aria-hidden="true">–</span>
            <div><p className="check-title">Plex's log</p><p className="check-detail">{install.logProblem}</p></div>
          </li>
        )}
        {!install.logProblem && current.length === 0 && (
          <li className="check check-ok">
            <span className="check-mark" aria-hidden="true">✓</span>
            <div><p className="check-title">Plex's log</p><p className="check-detail">Nothing wrong since Plex last started.</p></div>
          </li>
        )}
        {[...current, ...older].map((finding) => (
          <li key={finding.id} className={`check check-${finding.beforeLastStart ? 'skip' : 'fail'}`}>
            <span className="check-mark" aria-hidden="true">{finding.beforeLastStart ? '–' : '✗'}</span>
            <div>
              <p className="check-title">
                {finding.title}
                <span className="visually-hidden">{finding.beforeLastStart ? ': before Plex last started' : ': in the log now'}</span>
              </p>
              <p className="check-detail">
                {finding.detail} Last seen {finding.age}{finding.count > 1 ? ` (${finding.count} times)` : ''}{finding.beforeLastStart ? ', before Plex last started: it may be fixed already' : ''}.
              </p>
              <pre className="log-line"><code>{finding.line}</code></pre>
              <p className="check-fix"><strong>Fix:</strong> {finding.fix}</p>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
