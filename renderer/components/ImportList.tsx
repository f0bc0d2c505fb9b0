import type { ProfileFields } from '../../electron/shared/ipc-contract.js';

export type ImportSource = 'ssh-config' | 'putty';

const WORDS: Record<ImportSource, { title: string; none: string; choose: string }> = {
  'ssh-config': {
    title: 'Import from ~/.ssh/config',
    none: 'No usable Host entries were found in your ~/.ssh/config (entries with wildcards or a ProxyCommand are left out).',
    choose: 'Choose a Host entry; you can check the details before saving.',
  },
  putty: {
    title: 'Import from PuTTY',
    none: 'No saved PuTTY sessions were found (sessions for Telnet or other protocols, and those behind a SOCKS, HTTP or command proxy, are left out).',
    choose: 'Choose a saved session; its key file, jump host and Plex port come along, and you can check them before saving. The server keys PuTTY trusts are trusted here too.',
  },
};

export function ImportList(props: { source: ImportSource; forms: ProfileFields[]; onPick(fields: ProfileFields): void; onCancel(): void }) {
  const words = WORDS[props.source];
  return (
    <section className="panel-page">
      <h2>{words.title}</h2>
      {props.forms.length === 0 ? (
        <p>{words.none}</p>
      ) : (
        <>
          <p>{words.choose}</p>
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
