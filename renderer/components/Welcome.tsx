import type { ImportSource } from './ImportList.js';

export function Welcome(props: { onAdd(): void; onImport(source: ImportSource): void }) {
  return (
    <section className="welcome">
      <h2>Get back into your Plex server</h2>
      <p>
        When Plex says <em>“Not authorized – You do not have access to this server”</em>, the server has lost its link to
        your Plex account and has to be <strong>claimed</strong> again. Plex allows that only from the server itself or its
        home network.
      </p>
      <p>
        Reclaim signs in to the server over SSH and opens Plex as if you were sitting at it, so you can claim it from
        anywhere. Nothing on the server is changed except the claim you ask for.
      </p>
      <ol className="welcome-steps">
        <li>Add your server: its address and your SSH user name.</li>
        <li>Connect, and check the server's identity key the first time.</li>
        <li>Press <strong>Claim this server</strong> and sign in with Plex.</li>
      </ol>
      <div className="button-row">
        <button type="button" className="primary" onClick={props.onAdd}>Add your server</button>
        <button type="button" onClick={() => props.onImport('ssh-config')}>Import from ~/.ssh/config</button>
        <button type="button" onClick={() => props.onImport('putty')}>Import from PuTTY</button>
      </div>
    </section>
  );
}
