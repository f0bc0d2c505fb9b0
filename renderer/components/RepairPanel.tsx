import { Fragment, useEffect, useState, type FormEvent } from 'react';
import type { Connection, ErrorInfo, RepairGoAhead, RepairOutcome, RepairPlanInfo, RepairStep } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { reported } from '../failures.js';
import { ErrorBox } from './ErrorBox.js';
import { useServerEvents } from './use-server-events.js';

// Repair the server's Plex sign-in: the plan first (which install, which file, where the backup
// goes, which way and why), then the person's go-ahead with a Plex sign-in or a claim token, each
// step as it happens, the backup's path, and Undo, which puts that backup back.

type Way = 'auto' | 'signout' | 'offline';
type Phase = 'planning' | 'plan' | 'running' | 'done' | 'failed';

export function RepairPanel(props: {
  profileId: string;
  events: EventTarget;
  connection?: Connection;
  onStatus(connection: Connection): void;
  /** Plex is back: a warning that it was not answering (while it was stopped) is over. */
  onDone(): void;
  onClose(): void;
}) {
  const { profileId } = props;
  const [phase, setPhase] = useState<Phase>('planning');
  const [undo, setUndo] = useState(false);
  const [way, setWay] = useState<Way>('auto');
  const [keepCertificate, setKeepCertificate] = useState(false);
  const [plan, setPlan] = useState<RepairPlanInfo | undefined>();
  const [steps, setSteps] = useState<Partial<Record<RepairStep, 'started' | 'done'>>>({});
  const [notices, setNotices] = useState<string[]>([]);
  const [backup, setBackup] = useState<string | undefined>();
  const [signInUrl, setSignInUrl] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<RepairOutcome | undefined>();
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [token, setToken] = useState('');

  useServerEvents(props.events, profileId, (event) => {
    if (event.type === 'repair-step') setSteps((all) => ({ ...all, [event.step]: event.state }));
    if (event.type === 'repair-notice') {
      setNotices((all) => [...all, event.text]);
      if (event.backup) setBackup(event.backup);
    }
    if (event.type === 'signin-url' && phase === 'running') setSignInUrl(event.url);
  });

  const makePlan = async (wantUndo: boolean, wantWay: Way, keep = keepCertificate) => {
    setPhase('planning');
    setUndo(wantUndo);
    setWay(wantWay);
    setKeepCertificate(keep);
    setError(undefined);
    setNotices([]);
    const result = await reclaim.planRepair(profileId, { undo: wantUndo, mode: wantWay, keepCertificate: keep });
    if (!result.ok) {
      setError(result.error);
      setPhase('failed');
      return;
    }
    setPlan(result.value);
    setPhase('plan');
  };
  useEffect(() => {
    void makePlan(false, 'auto');
    // Leaving the panel gives the server's lock back (or stops a sign-in still waiting).
    return () => void reported(reclaim.cancelRepair(profileId));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- plan once when the panel opens
  }, [profileId]);

  const goAhead = async (how: RepairGoAhead) => {
    setSteps({});
    setBackup(undefined);
    setSignInUrl(undefined);
    setError(undefined);
    setPhase('running');
    const result = await reclaim.repairGoAhead(profileId, how);
    if (!result.ok) {
      setError(result.error);
      setPhase('failed');
      return;
    }
    setOutcome(result.value);
    setToken('');
    if (result.value.status && props.connection) props.onStatus({ ...props.connection, status: result.value.status, statusError: undefined });
    props.onDone();
    setPhase('done');
  };
  const submitToken = (event: FormEvent) => {
    event.preventDefault();
    void goAhead({ claimToken: token });
  };

  const title = undo ? 'Undo the repair' : 'Repair the Plex sign-in';
  return (
    <aside className="side-panel repair" aria-labelledby="repair-title" aria-busy={phase === 'planning' || phase === 'running'}>
      <h3 id="repair-title">{title}</h3>
      {phase === 'planning' && <p role="status">Looking at the server's Plex install…</p>}

      {plan && (phase === 'plan' || phase === 'running' || phase === 'done' || (phase === 'failed' && Object.keys(steps).length > 0)) && (
        <PlanView plan={plan} steps={steps} showState={phase !== 'plan'} />
      )}

      {phase === 'plan' && plan?.action === 'repair' && (
        <>
          <fieldset className="way">
            <legend>Way</legend>
            {(['auto', 'signout', 'offline'] as const).map((choice) => (
              <label key={choice}>
                <input type="radio" name="repair-way" checked={way === choice} onChange={() => void makePlan(false, choice)} />
                {choice === 'auto' ? 'As Reclaim chose' : choice === 'signout' ? 'Sign out, then claim' : 'Offline claim'}
              </label>
            ))}
          </fieldset>
          {(plan.certificate || keepCertificate) && (
            <label className="checkbox">
              <input type="checkbox" checked={!keepCertificate} onChange={(event) => void makePlan(false, way, !event.target.checked)} />
              Set the server's cached certificate aside, so Plex fetches a new one (recommended after a password reset)
            </label>
          )}
          <p>Nothing on the server changes until you go ahead. Sign in with the Plex account that should own this server:</p>
          <div className="button-row">
            {reclaim.shell.sandboxed && <button type="button" className="primary" onClick={() => void goAhead({ signIn: 'window' })}>Sign in with Plex and repair</button>}
            <button type="button" className={reclaim.shell.sandboxed ? undefined : 'primary'} onClick={() => void goAhead({ signIn: 'browser' })}>Sign in in my browser and repair</button>
          </div>
          <form onSubmit={submitToken}>
            <label htmlFor="repair-token">Or a claim token from plex.tv/claim</label>
            <input id="repair-token" value={token} autoComplete="off" spellCheck={false} placeholder="claim-xxxxxxxxxxxxxxxxxxxx" onChange={(event) => setToken(event.target.value)} />
            <button type="submit" disabled={token.trim() === ''}>Repair with this token</button>
          </form>
        </>
      )}
      {phase === 'plan' && plan?.action === 'undo' && (
        <div className="button-row">
          <button type="button" className="primary" onClick={() => void goAhead({ undo: true })}>Put the backup back</button>
        </div>
      )}

      {phase === 'running' && signInUrl && Object.keys(steps).length === 0 && (
        <div className="notice">
          <p>Sign in and approve Reclaim in the Plex page that opened. Waiting for your approval…</p>
          <p className="small-print">If no page opened, go to: <code className="wrap">{signInUrl}</code></p>
          <button type="button" onClick={() => void reported(reclaim.cancelRepair(profileId))}>Cancel sign-in</button>
        </div>
      )}
      {notices.length > 0 && (
        <ul className="repair-notices" aria-label="What the repair did">
          {notices.map((notice, index) => <li key={index}>{notice}</li>)}
        </ul>
      )}
      {backup && phase !== 'done' && <p className="small-print">Backup: <code className="wrap">{backup}</code></p>}

      {phase === 'done' && outcome && (
        <div role="status">
          {outcome.outcome === 'repaired' ? (
            <>
              <p className="success">Done: the server is claimed{outcome.account ? ` by ${outcome.account}` : ''} and signed in.</p>
              <p>Plex's settings as they were are kept in <code className="wrap">{outcome.backup}</code>.</p>
              {outcome.warnings.map((warning) => <p key={warning} className="warning-text">{warning}</p>)}
            </>
          ) : (
            <>
              <p className="success">Done: the backup is back and Plex answers.</p>
              <p>What it replaced is kept in <code className="wrap">{outcome.backup}</code>.</p>
            </>
          )}
        </div>
      )}
      {error && <ErrorBox error={error} title={undo ? 'The undo did not go through' : 'The repair did not go through'} />}

      <div className="button-row">
        {(phase === 'done' || phase === 'failed') && (
          <button type="button" onClick={() => void makePlan(true, 'auto')}>Undo…</button>
        )}
        {phase === 'failed' && <button type="button" onClick={() => void makePlan(undo, way)}>Try again</button>}
        <button type="button" onClick={props.onClose} disabled={phase === 'running'}>Close</button>
      </div>
    </aside>
  );
}

function PlanView(props: { plan: RepairPlanInfo; steps: Partial<Record<RepairStep, 'started' | 'done'>>; showState: boolean }) {
  const { plan } = props;
  return (
    <div className="plan">
      {plan.recovered && <p className="notice">{plan.recovered}</p>}
      <dl className="facts">
        <dt>Install</dt><dd>{plan.install}</dd>
        <dt>Plex's settings</dt><dd><code className="wrap">{plan.preferences}</code></dd>
        {plan.action === 'repair' && plan.current && (
          <>
            <dt>Signed in now as</dt>
            <dd>{plan.current.username ?? 'nobody'}{plan.current.accepted === false ? ' (plex.tv no longer accepts it)' : plan.current.accepted === true ? ' (plex.tv accepts it)' : ''}</dd>
            <dt>Will belong to</dt><dd>{plan.accountText}</dd>
            <dt>Way</dt><dd>{plan.mode === 'signout' ? 'Sign out, then claim through the tunnel' : 'Offline claim'}. <span className="muted">{plan.why}</span></dd>
          </>
        )}
        {plan.action === 'undo' && (<><dt>Put back</dt><dd><code className="wrap">{plan.restore}</code></dd></>)}
        <dt>Backup</dt><dd><code className="wrap">{plan.backup}</code></dd>
        {plan.keeps?.map((keep) => <Fragment key={keep}><dt>Kept</dt><dd>{keep}</dd></Fragment>)}
        {plan.certificate && (<><dt>Certificate</dt><dd>{plan.certificate}</dd></>)}
      </dl>
      <ol className="steps compact" aria-label="Repair steps">
        {plan.steps.map(({ step, text }) => {
          const state = props.showState ? props.steps[step] : undefined;
          return (
            <li key={step} className={`step step-${state === 'done' ? 'done' : state === 'started' ? 'current' : 'pending'}`} aria-current={state === 'started' ? 'step' : undefined}>
              <span className="step-mark" aria-hidden="true">{state === 'done' ? '✓' : state === 'started' ? '…' : ''}</span>
              {text}
              <span className="visually-hidden">{state === 'done' ? ' (done)' : state === 'started' ? ' (in progress)' : ''}</span>
            </li>
          );
        })}
      </ol>
      {plan.notes.map((note) => <p key={note} className="small-print">{note}</p>)}
    </div>
  );
}
