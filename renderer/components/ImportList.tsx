import type { ProfileFields } from '../../electron/shared/ipc-contract.js';

export function ImportList(props: { forms: ProfileFields[]; onPick(fields: ProfileFields): void; onCancel(): void }) {
  return (
    <section className="panel-page">
      <h2>Import from ~/.ssh/config</h2>
      {props.forms.length === 0 ? (
        <p>No usable Host entries were found in your ~/.ssh/config (entries with wildcards or a ProxyCommand are left out).</p>
      ) : (
        <>
          <p>Choose a Host entry; you can check the details before saving.</p>
          <ul className="import-list">
            {props.forms.map((form) => (
              <li key={form.name}>
                <button type="button" onClick={() => props.onPick(form)}>
                  <strong>{form.name}</strong>
                  <span className="muted">{form.user ? `${form.user}@` : ''}{form.host}{form.sshPort !== 22 ? `:${form.sshPort}` : ''}{form.jump ? ` via ${form.jump}` : ''}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="button-row">
        <button type="button" onClick={props.onCancel}>Back</button>
      </div>
    </section>
  );
}
