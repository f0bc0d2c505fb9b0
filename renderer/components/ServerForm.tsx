import { useState, type FormEvent } from 'react';
import type { AuthMethod, ErrorInfo, ProfileFields, ServerProfile } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { showFailure } from '../failures.js';

// The server form. Every field is checked by the core (the same check runs on save), on leaving
// the field and on saving; the message appears under the field it is about.

type FieldName = keyof ProfileFields;

export function ServerForm(props: {
  id: string | null;
  initial: ProfileFields;
  onSaved(profile: ServerProfile, andConnect: boolean): void;
  onCancel(): void;
}) {
  const [fields, setFields] = useState<ProfileFields>(props.initial);
  const [fieldError, setFieldError] = useState<ErrorInfo | undefined>();
  const [formError, setFormError] = useState<ErrorInfo | undefined>();
  const [saving, setSaving] = useState(false);

  const set = <K extends FieldName>(name: K, value: ProfileFields[K]) => setFields((current) => ({ ...current, [name]: value }));

  const check = async () => {
    const result = await reclaim.checkProfile(fields);
    setFieldError(result.ok ? undefined : result.error.field ? result.error : undefined);
    // A failure that is about no field (the check itself failed) still has to be seen.
    if (!result.ok && !result.error.field) showFailure(result.error);
  };

  const submit = async (event: FormEvent<HTMLFormElement>, andConnect: boolean) => {
    event.preventDefault();
    setSaving(true);
    const result = await reclaim.saveProfile(props.id, fields);
    setSaving(false);
    if (result.ok) return props.onSaved(result.value, andConnect);
    if (result.error.field) {
      setFieldError(result.error);
      document.getElementById(`field-${result.error.field}`)?.focus();
    } else {
      setFormError(result.error);
    }
  };

  const browse = async () => {
    const chosen = await reclaim.chooseKeyFile();
    if (!chosen.ok) setFormError(chosen.error);
    else if (chosen.value) setFields((current) => ({ ...current, keyPath: chosen.value! }));
  };

  const errorFor = (name: FieldName) => (fieldError?.field === name ? fieldError : undefined);
  const describedBy = (name: FieldName) => `hint-${name}${errorFor(name) ? ` error-${name}` : ''}`;
  const fieldProps = (name: FieldName) => ({
    id: `field-${name}`,
    'aria-describedby': describedBy(name),
    'aria-invalid': errorFor(name) ? true : undefined,
    onBlur: () => void check(),
  });
  const FieldError = ({ name }: { name: FieldName }) => {
    const error = errorFor(name);
    return error ? (
      <p className="field-error" id={`error-${name}`} role="alert">
        {error.message} {error.fix}
      </p>
    ) : null;
  };

  return (
    <form className="server-form" onSubmit={(event) => void submit(event, true)} noValidate>
      <h2>{props.id ? 'Edit server' : 'Add your server'}</h2>
      <p className="muted">The computer that runs Plex Media Server, as you reach it with SSH.</p>

      <div className="field-grid">
        <div className="field wide">
          <label htmlFor="field-host">Server address</label>
          <input {...fieldProps('host')} value={fields.host} autoFocus placeholder="myserver.example.com" autoComplete="off" spellCheck={false}
            onChange={(event) => set('host', event.target.value)} />
          <p className="hint" id="hint-host">Host name, IP address, or a Host name from your ~/.ssh/config.</p>
          <FieldError name="host" />
        </div>
        <div className="field">
          <label htmlFor="field-sshPort">SSH port</label>
          <input {...fieldProps('sshPort')} inputMode="numeric" value={Number.isNaN(fields.sshPort) ? '' : String(fields.sshPort)}
            onChange={(event) => set('sshPort', event.target.value.trim() === '' ? Number.NaN : Number(event.target.value))} />
          <p className="hint" id="hint-sshPort">Usually 22.</p>
          <FieldError name="sshPort" />
        </div>
        <div className="field">
          <label htmlFor="field-user">User name</label>
          <input {...fieldProps('user')} value={fields.user} placeholder="plex" autoComplete="off" spellCheck={false}
            onChange={(event) => set('user', event.target.value)} />
          <p className="hint" id="hint-user">Your login on the server. Empty: from ~/.ssh/config, else your user name here.</p>
          <FieldError name="user" />
        </div>
        <div className="field">
          <label htmlFor="field-name">Name in Reclaim</label>
          <input {...fieldProps('name')} value={fields.name} placeholder={fields.host || 'Living room server'}
            onChange={(event) => set('name', event.target.value)} />
          <p className="hint" id="hint-name">Optional; the address is used if empty.</p>
          <FieldError name="name" />
        </div>

        <fieldset className="field wide">
          <legend>Sign in with</legend>
          {([
            ['auto', 'Automatic', 'your SSH agent and keys in ~/.ssh, then a password if the server asks'],
            ['key', 'Key file', 'a private key file you choose'],
            ['password', 'Password', 'only a password (or a code the server asks for)'],
          ] as Array<[AuthMethod, string, string]>).map(([value, label, hint]) => (
            <label key={value} className="radio">
              <input type="radio" name="auth" value={value} checked={fields.auth === value} onChange={() => set('auth', value)} />
              <span><strong>{label}</strong>: {hint}</span>
            </label>
          ))}
          <p className="hint" id="hint-auth">Reclaim asks for passwords and passphrases when needed and saves them only if you tick “Remember”.</p>
          <FieldError name="auth" />
        </fieldset>

        {fields.auth === 'key' && (
          <div className="field wide">
            <label htmlFor="field-keyPath">Private key file</label>
            <div className="input-with-button">
              <input {...fieldProps('keyPath')} value={fields.keyPath} placeholder="~/.ssh/id_ed25519" spellCheck={false}
                onChange={(event) => set('keyPath', event.target.value)} />
              <button type="button" onClick={() => void browse()}>Browse…</button>
            </div>
            <p className="hint" id="hint-keyPath">Full path of the private key (not the .pub file): OpenSSH, PEM, or PuTTY's .ppk as PuTTYgen saved it.</p>
            <FieldError name="keyPath" />
          </div>
        )}

        <details className="field wide advanced" open={Boolean(fields.jump) || fields.localPort !== 8888 || fields.remote !== '127.0.0.1:32400'}>
          <summary>Advanced: jump host and ports</summary>
          <div className="field-grid">
            <div className="field wide">
              <label htmlFor="field-jump">Jump host</label>
              <input {...fieldProps('jump')} value={fields.jump} placeholder="user@gateway.example.com" spellCheck={false}
                onChange={(event) => set('jump', event.target.value)} />
              <p className="hint" id="hint-jump">Only if you reach the server through another SSH server: [user@]host[:port], several separated by commas.</p>
              <FieldError name="jump" />
            </div>
            <div className="field">
              <label htmlFor="field-localPort">Local port</label>
              <input {...fieldProps('localPort')} inputMode="numeric" value={Number.isNaN(fields.localPort) ? '' : String(fields.localPort)}
                onChange={(event) => set('localPort', event.target.value.trim() === '' ? Number.NaN : Number(event.target.value))} />
              <p className="hint" id="hint-localPort">Port on this computer (127.0.0.1 only). 8888 as in Plex's guide; 0 picks any free port.</p>
              <FieldError name="localPort" />
            </div>
            <div className="field">
              <label htmlFor="field-remote">Plex on the server</label>
              <input {...fieldProps('remote')} value={fields.remote} spellCheck={false}
                onChange={(event) => set('remote', event.target.value)} />
              <p className="hint" id="hint-remote">Where Plex listens, seen from the server. Almost always 127.0.0.1:32400.</p>
              <FieldError name="remote" />
            </div>
          </div>
        </details>
      </div>

      {formError && <p className="field-error" role="alert">{formError.message} {formError.fix}</p>}
      <div className="button-row">
        <button type="submit" className="primary" disabled={saving}>Save and connect</button>
        <button type="button" disabled={saving} onClick={(event) => void submit(event as unknown as FormEvent<HTMLFormElement>, false)}>Save</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
