import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Prompt, PromptAnswer, ServerProfile } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { reported } from '../failures.js';

// The questions SSH asks while connecting, as modal dialogs: the server's identity key the first
// time, a password or passphrase, a keyboard-interactive (2FA) question.

export function PromptDialog(props: { prompt: Prompt; profiles: ServerProfile[] }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    // Focus goes back where it was once the question is answered.
    const before = document.activeElement as HTMLElement | null;
    if (element && !element.open) element.showModal();
    return () => before?.focus();
  }, []);

  const answer = (value: PromptAnswer) => void reported(reclaim.answerPrompt(props.prompt.id, value));
  const cancel = (): PromptAnswer => {
    switch (props.prompt.kind) {
      case 'host-key': return { kind: 'host-key', trust: false };
      case 'secret': return { kind: 'secret', value: null, remember: false };
      case 'keyboard-interactive': return { kind: 'keyboard-interactive', answers: null };
    }
  };
  const server = props.profiles.find((profile) => profile.id === props.prompt.profileId)?.name ?? 'the server';

  return (
    <dialog ref={dialog} className="prompt-dialog" aria-labelledby="prompt-title"
      onCancel={(event) => { event.preventDefault(); answer(cancel()); }}>
      {props.prompt.kind === 'host-key' && <HostKeyQuestion prompt={props.prompt} server={server} onAnswer={answer} />}
      {props.prompt.kind === 'secret' && <SecretQuestion prompt={props.prompt} server={server} onAnswer={answer} />}
      {props.prompt.kind === 'keyboard-interactive' && <CodeQuestion prompt={props.prompt} server={server} onAnswer={answer} />}
    </dialog>
  );
}

function HostKeyQuestion(props: { prompt: Extract<Prompt, { kind: 'host-key' }>; server: string; onAnswer(answer: PromptAnswer): void }) {
  const { prompt } = props;
  const where = prompt.port === 22 ? prompt.host : `${prompt.host} port ${prompt.port}`;
  return (
    <div>
      <h2 id="prompt-title">Is this really your server?</h2>
      <p>This is the first time Reclaim connects to <strong>{where}</strong>. Every SSH server has an identity key; check that this one is your server's before you trust it.</p>
      <p className="fingerprint-label">Identity key ({prompt.hostKey.type}):</p>
      <p className="fingerprint"><code>{prompt.hostKey.fingerprint}</code></p>
      <p>To compare, run this on the server (or ask its admin to). It prints the same fingerprint if this is your server:</p>
      <pre className="command"><code>{prompt.serverCommand}</code></pre>
      {prompt.otherTypesKnown.length > 0 && (
        <p className="warning-text" role="note">
          Careful: a key of another type is already on record for this server
          ({prompt.otherTypesKnown.map((key) => `${key.type} ${key.fingerprint}`).join(', ')}). Trust this one only after comparing.
        </p>
      )}
      <div className="button-row">
        <button type="button" className="primary" onClick={() => props.onAnswer({ kind: 'host-key', trust: true })}>It matches: trust and connect</button>
        <button type="button" autoFocus onClick={() => props.onAnswer({ kind: 'host-key', trust: false })}>Don't connect</button>
      </div>
    </div>
  );
}

function SecretQuestion(props: { prompt: Extract<Prompt, { kind: 'secret' }>; server: string; onAnswer(answer: PromptAnswer): void }) {
  if (props.prompt.secretKind === 'sudo') return <SudoQuestion {...props} />;
  const { prompt } = props;
  const [value, setValue] = useState('');
  const [remember, setRemember] = useState(false);
  const what = prompt.secretKind === 'password' ? 'Password' : 'Passphrase';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onAnswer({ kind: 'secret', value, remember });
  };
  return (
    <form onSubmit={submit}>
      <h2 id="prompt-title">{prompt.secretKind === 'password' ? `Password for ${prompt.subject}` : 'Passphrase for your key'}</h2>
      {prompt.secretKind === 'passphrase' && <p>The key <code>{prompt.subject}</code> is protected by a passphrase.</p>}
      {prompt.attempt > 1 && <p className="warning-text" role="alert">That {what.toLowerCase()} was not accepted. Try again (it is case-sensitive).</p>}
      <label htmlFor="secret-input">{what}</label>
      <input id="secret-input" type="password" autoFocus autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} />
      {prompt.canRemember ? (
        <label className="checkbox">
          <input type="checkbox" checked={remember} onChange={(event) => setRemember(event.target.checked)} />
          Remember it for {props.server} (stored encrypted by your operating system)
        </label>
      ) : (
        <p className="hint">This computer has no encrypted storage for passwords, so Reclaim will not save it.</p>
      )}
      <div className="button-row">
        <button type="submit" className="primary">Sign in</button>
        <button type="button" onClick={() => props.onAnswer({ kind: 'secret', value: null, remember: false })}>Cancel</button>
      </div>
    </form>
  );
}

/** sudo's password on the server: never saved, used to read or repair Plex's files as root. */
function SudoQuestion(props: { prompt: Extract<Prompt, { kind: 'secret' }>; server: string; onAnswer(answer: PromptAnswer): void }) {
  const { prompt } = props;
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onAnswer({ kind: 'secret', value, remember: false });
  };
  return (
    <form onSubmit={submit}>
      <h2 id="prompt-title">sudo password for {prompt.subject} on {props.server}</h2>
      <p>Reclaim needs root on the server to {prompt.reason ?? 'read Plex\'s files'}. sudo asks for the password of <strong>{prompt.subject}</strong> on the server; it is often the same as your SSH password.</p>
      <p className="hint">It goes only to sudo on the server and is not saved.</p>
      <label htmlFor="secret-input">sudo password</label>
      <input id="secret-input" type="password" autoFocus autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} />
      <div className="button-row">
        <button type="submit" className="primary">Continue</button>
        <button type="button" onClick={() => props.onAnswer({ kind: 'secret', value: null, remember: false })}>Cancel</button>
      </div>
    </form>
  );
}

function CodeQuestion(props: { prompt: Extract<Prompt, { kind: 'keyboard-interactive' }>; server: string; onAnswer(answer: PromptAnswer): void }) {
  const { prompt } = props;
  const [answers, setAnswers] = useState<string[]>(prompt.prompts.map(() => ''));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onAnswer({ kind: 'keyboard-interactive', answers });
  };
  return (
    <form onSubmit={submit}>
      <h2 id="prompt-title">{prompt.name || `${props.server} asks`}</h2>
      <p>The server {prompt.host} asks {prompt.user} for:</p>
      {prompt.instructions && <p className="server-text">{prompt.instructions}</p>}
      {prompt.prompts.map((question, index) => (
        <div className="field" key={index}>
          <label htmlFor={`code-${index}`}>{question.prompt.trim() || `Answer ${index + 1}`}</label>
          <input id={`code-${index}`} type={question.echo ? 'text' : 'password'} autoFocus={index === 0} autoComplete="one-time-code"
            value={answers[index]} onChange={(event) => setAnswers((all) => all.map((old, at) => (at === index ? event.target.value : old)))} />
        </div>
      ))}
      <div className="button-row">
        <button type="submit" className="primary">Continue</button>
        <button type="button" onClick={() => props.onAnswer({ kind: 'keyboard-interactive', answers: null })}>Cancel</button>
      </div>
    </form>
  );
}
