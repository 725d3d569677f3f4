// @ts-check
// Settings (emails, blocks, export, deleting the account) and, for mentors, capacity, pause
// and mentees.

import { useState } from '../vendor/hooks.js';
import { call, saveFile, signOut } from '../api.js';
import { Check, Field, FormError, ListState, Title, fieldErrors, html, message, navigate, useLoad } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

/** @param {PageProps} props */
export function Settings({ me }) {
  if (!me) return null;
  return html`<section>
    <${Title}>Settings</${Title}>
    <${Notifications} />
    <${Blocks} />
    <${Export} />
    <${DeleteAccount} />
  </section>`;
}

function Notifications() {
  const state = useLoad(() => call('get', '/api/v1/me/notifications'), []);
  const [chosen, setChosen] = useState(/** @type {Schemas['NotificationPreferences'] | null} */ (null));
  const [status, setStatus] = useState('');
  /** @param {Schemas['NotificationPreferences']} next */
  const save = async (next) => {
    const before = chosen;
    setChosen(next);
    setStatus('Saving…');
    try {
      setChosen(await call('put', '/api/v1/me/notifications', { body: next }));
      setStatus('Saved.');
    } catch (e) {
      setChosen(before);
      setStatus(message(e));
    }
  };
  return html`<section class="panel" aria-labelledby="emails-title">
    <h2 id="emails-title">Emails</h2>
    <p class="hint">We always email you about your account and about answers to your requests.</p>
    <${ListState} state=${state} reload=${state.reload} what="your email settings"
      isEmpty=${() => false} empty="">
      ${(/** @type {Schemas['NotificationPreferences']} */ loaded) => {
        const prefs = chosen ?? loaded;
        return html`
          <${Check} id="connection_requests" label="Email me when someone asks to connect"
            checked=${prefs.connection_requests}
            onChange=${(/** @type {boolean} */ on) => save({ ...prefs, connection_requests: on })} />
          <${Check} id="match_digest" label="Email me now and then about new people who match me"
            checked=${prefs.match_digest}
            onChange=${(/** @type {boolean} */ on) => save({ ...prefs, match_digest: on })} />
          <${Check} id="circle_updates" label="Email me about my circles: new circles, seats, meetings and reminders"
            checked=${prefs.circle_updates ?? true}
            onChange=${(/** @type {boolean} */ on) => save({ ...prefs, circle_updates: on })} />
          <${Check} id="circle_digest" label="Email me once a day at most with new posts in my circles"
            checked=${prefs.circle_digest ?? true}
            onChange=${(/** @type {boolean} */ on) => save({ ...prefs, circle_digest: on })} />
          <${Check} id="follow_through" label="Email me check-ins, meeting proposals and reminders for my connections"
            checked=${prefs.follow_through ?? true}
            onChange=${(/** @type {boolean} */ on) => save({ ...prefs, follow_through: on })} />`;
      }}
    </${ListState}>
    <p role="status">${status}</p>
  </section>`;
}

function Blocks() {
  const state = useLoad(() => call('get', '/api/v1/me/blocks'), []);
  const [status, setStatus] = useState('');
  /** @param {Schemas['BlockedPerson']} person */
  const unblock = async (person) => {
    try {
      await call('delete', '/api/v1/me/blocks/{user_id}', { params: { user_id: person.user_id } });
      setStatus(`${person.display_name} is no longer blocked.`);
      state.reload();
    } catch (e) {
      setStatus(message(e));
    }
  };
  return html`<section class="panel" aria-labelledby="blocks-title">
    <h2 id="blocks-title">People you blocked</h2>
    <p class="hint">
      To block someone, open their profile and choose “Block”. Neither of you is then suggested
      to, listed for, or able to ask the other.
    </p>
    <${ListState} state=${state} reload=${state.reload} what="the people you blocked"
      isEmpty=${(/** @type {Schemas['BlockList']} */ d) => d.items.length === 0}
      empty="You have not blocked anyone.">
      ${(/** @type {Schemas['BlockList']} */ d) => html`<ul class="plain">
        ${d.items.map(
          (p) => html`<li key=${p.user_id}>
            <span>${p.display_name}</span>
            <button type="button" class="secondary" onClick=${() => unblock(p)}
              aria-label=${`Unblock ${p.display_name}`}>Unblock</button>
          </li>`,
        )}
      </ul>`}
    </${ListState}>
    <p role="status">${status}</p>
  </section>`;
}

function Export() {
  const [status, setStatus] = useState('');
  const download = async () => {
    setStatus('Preparing your file…');
    try {
      const data = await call('get', '/api/v1/me/export');
      saveFile(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), 'alongside-my-data.json');
      setStatus('Downloaded: alongside-my-data.json');
    } catch (e) {
      setStatus(message(e));
    }
  };
  return html`<section class="panel" aria-labelledby="export-title">
    <h2 id="export-title">Your data</h2>
    <p>Download everything Alongside keeps about you, as a JSON file.</p>
    <button type="button" class="secondary" onClick=${download}>Download my data</button>
    <p role="status">${status}</p>
  </section>`;
}

function DeleteAccount() {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {Event} event */
  const erase = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('delete', '/api/v1/me', { body: { password } });
      await signOut().catch(() => {});
      location.assign('/?deleted=1');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const fields = fieldErrors(error);
  return html`<form class="panel danger-zone" onSubmit=${erase} aria-labelledby="delete-title">
    <h2 id="delete-title">Delete your account</h2>
    <p>
      This erases your account and profile, withdraws your pending requests and ends your
      connections. It cannot be undone.
    </p>
    <${Field} id="delete-password" label="Your password, to confirm" type="password"
      autocomplete="current-password" value=${password} onInput=${setPassword}
      errors=${fields.password} />
    <${FormError} error=${fields.password ? null : error} />
    <button type="submit" class="danger" disabled=${busy || !password}>Delete my account</button>
  </form>`;
}

/** @param {PageProps} props */
export function Mentoring({ me, reloadMe }) {
  const profile = me?.profile;
  const [capacity, setCapacity] = useState(String(profile?.mentoring.capacity ?? 1));
  const [paused, setPaused] = useState(profile?.mentoring.paused_until ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [status, setStatus] = useState('');
  const mentees = useLoad(
    () => call('get', '/api/v1/connections', { query: { direction: 'incoming', status: 'accepted', limit: 50 } }),
    [],
  );
  if (!me) return null;
  if (!profile?.mentoring.offering) {
    return html`<section>
      <${Title}>Mentoring</${Title}>
      <p>You do not offer to mentor. You can offer it in <a href="/profile">your profile</a>.</p>
    </section>`;
  }
  /** @param {Event} event */
  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      await call('patch', '/api/v1/me/profile', {
        body: { mentoring: { capacity: Number(capacity), paused_until: paused || null } },
      });
      await reloadMe();
      setStatus(paused ? `Saved. You are paused until ${paused}.` : 'Saved.');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const fields = fieldErrors(error);
  const today = new Date().toISOString().slice(0, 10);
  return html`<section>
    <${Title}>Mentoring</${Title}>
    <form class="panel" onSubmit=${save} noValidate aria-labelledby="capacity-title">
      <h2 id="capacity-title">Capacity and pause</h2>
      <${Field} id="capacity" label="How many mentees at a time (1 to 20)" type="number"
        inputmode="numeric" min=${0} max=${20} value=${capacity} onInput=${setCapacity}
        errors=${fields['mentoring.capacity']} />
      <${Field} id="paused_until" label="Pause new requests until (optional)" type="date"
        min=${/** @type {any} */ (today)} value=${paused} onInput=${setPaused}
        errors=${fields['mentoring.paused_until']}
        hint="While paused you are not suggested as a mentor; your mentees stay with you." />
      <${FormError} error=${Object.keys(fields).length ? null : error} />
      <div class="actions">
        <button type="submit" disabled=${busy}>Save</button>
        ${paused ? html`<button type="button" class="secondary" onClick=${() => setPaused('')}>Clear the pause</button>` : null}
      </div>
      <p role="status">${status}</p>
    </form>
    <h2>Your mentees</h2>
    <${ListState} state=${mentees} reload=${mentees.reload} what="your mentees"
      isEmpty=${(/** @type {Schemas['ConnectionPage']} */ d) =>
        d.items.filter((c) => c.kind === 'mentorship').length === 0}
      empty="You have no mentees yet.">
      ${(/** @type {Schemas['ConnectionPage']} */ d) => html`<ul class="cards">
        ${d.items
          .filter((c) => c.kind === 'mentorship')
          .map(
            (c) => html`<li key=${c.id} class="card">
              <a href=${`/people/${c.requester.user_id}`}>${c.requester.display_name}</a>
              ${c.contact_email ? html` · <a href=${`mailto:${c.contact_email}`}>${c.contact_email}</a>` : null}
            </li>`,
          )}
      </ul>`}
    </${ListState}>
  </section>`;
}

