// @ts-check
// Connections: requests to and from the caller, with what can be done with each, and the
// other person's contact details once accepted.

import { useState } from '../vendor/hooks.js';
import { call } from '../api.js';
import { Field, FormError, ListState, Title, html, message, useLoad } from '../ui.js';
import { OpenCheckIns } from './check_ins.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const STATUS = /** @type {Record<string, string>} */ ({
  pending: 'Waiting for an answer',
  accepted: 'Connected',
  declined: 'Declined',
  withdrawn: 'Withdrawn',
  expired: 'Expired without an answer',
  ended: 'Ended',
});
const REASONS = [
  { code: '', label: 'Rather not say' },
  { code: 'no_capacity', label: 'I have no room at the moment' },
  { code: 'not_a_good_fit', label: 'We are not a good fit' },
  { code: 'outside_my_expertise', label: 'It is outside my expertise' },
  { code: 'other', label: 'Another reason' },
];

/** @param {PageProps} props */
export function Connections({ me, query }) {
  const direction = query.get('direction') === 'outgoing' ? 'outgoing' : 'incoming';
  const state = useLoad(
    () =>
      call('get', '/api/v1/connections', {
        query: { direction, limit: 50, order: direction === 'incoming' ? 'isolation' : 'newest' },
      }),
    [direction],
  );
  if (!me) return null;
  return html`<section>
    <${Title}>Connections</${Title}>
    <${OpenCheckIns} />
    <nav class="tabs" aria-label="Direction">
      <a href="/connections" aria-current=${direction === 'incoming' ? 'page' : undefined}>Asked of me</a>
      <a href="/connections?direction=outgoing" aria-current=${direction === 'outgoing' ? 'page' : undefined}>I asked</a>
    </nav>
    <h2>${direction === 'incoming' ? 'Requests to you' : 'Your requests'}</h2>
    <${ListState}
      state=${state}
      reload=${state.reload}
      what="your connections"
      isEmpty=${(/** @type {Schemas['ConnectionPage']} */ d) => d.items.length === 0}
      empty=${direction === 'incoming'
        ? 'Nobody has asked to connect with you yet.'
        : 'You have not asked anyone yet. Your suggestions are a good place to start.'}
    >
      ${(/** @type {Schemas['ConnectionPage']} */ data) => html`<ul class="cards">
        ${data.items.map(
          (c) => html`<li key=${c.id}>
            <${ConnectionCard} connection=${c} mine=${direction === 'outgoing'} onChange=${state.reload} />
          </li>`,
        )}
      </ul>`}
    </${ListState}>
  </section>`;
}

/**
 * @param {{ connection: Schemas['ConnectionView'], mine: boolean, onChange: () => void }} props
 */
function ConnectionCard({ connection: c, mine, onChange }) {
  const other = mine ? c.recipient : c.requester;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [copied, setCopied] = useState('');
  /** @param {() => Promise<unknown>} action */
  const act = async (action) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const params = { id: c.id };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(c.contact_email ?? '');
      setCopied('Email address copied.');
    } catch {
      setCopied('Could not copy; select the address instead.');
    }
  };
  const heading = `conn-${c.id}`;
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}><a href=${`/people/${other.user_id}`}>${other.display_name}</a></h3>
    <p class="meta">
      ${c.kind === 'mentorship' ? (mine ? 'You asked to be mentored' : 'Asks you to mentor them') : 'Peers'}${' · '}<span class=${`status status-${c.status}`}>${STATUS[c.status] ?? c.status}</span>
    </p>
    ${c.message ? html`<blockquote>${c.message}</blockquote>` : null}
    ${c.reasons.length
      ? html`<p class="hint">In common: ${c.reasons.map((r) => r.label).join('; ')}</p>`
      : null}
    ${c.status === 'accepted'
      ? html`<p><a href=${`/connections/${c.id}`}>Agreement and meetings with ${other.display_name}</a></p>`
      : null}
    ${c.status === 'accepted' && c.contact_email
      ? html`<div class="contact">
          <p>Email: <a href=${`mailto:${c.contact_email}`}>${c.contact_email}</a></p>
          <button type="button" class="secondary" onClick=${copy}>Copy email</button>
          <p role="status">${copied}</p>
        </div>`
      : null}
    <div class="actions">
      ${!mine && c.status === 'pending' && !declining
        ? html`<button type="button" disabled=${busy}
              onClick=${() => act(() => call('post', '/api/v1/connections/{id}/accept', { params }))}>
              Accept
            </button>
            <button type="button" class="secondary" disabled=${busy} onClick=${() => setDeclining(true)}>
              Decline…
            </button>`
        : null}
      ${mine && c.status === 'pending'
        ? html`<button type="button" class="secondary" disabled=${busy}
            onClick=${() => act(() => call('post', '/api/v1/connections/{id}/withdraw', { params }))}>
            Withdraw request
          </button>`
        : null}
      ${c.status === 'accepted'
        ? html`<button type="button" class="secondary" disabled=${busy}
            onClick=${() =>
              confirm(`End your connection with ${other.display_name}?`) &&
              act(() => call('post', '/api/v1/connections/{id}/end', { params }))}>
            End connection
          </button>`
        : null}
    </div>
    ${declining
      ? html`<form
          class="panel"
          onSubmit=${(/** @type {Event} */ e) => {
            e.preventDefault();
            act(() =>
              call('post', '/api/v1/connections/{id}/decline', {
                params,
                body: {
                  reason_code: /** @type {Schemas['DeclineReason'] | null} */ (reason || null),
                  note: note || null,
                },
              }),
            );
          }}
        >
          <div class="field">
            <label for=${`reason-${c.id}`}>Why are you declining?</label>
            <p class="hint" id=${`reason-${c.id}-hint`}>
              ${other.display_name} gets a kind email that does not include your note.
            </p>
            <select id=${`reason-${c.id}`} aria-describedby=${`reason-${c.id}-hint`} value=${reason}
              onChange=${(/** @type {Event} */ e) => setReason(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
              ${REASONS.map((r) => html`<option key=${r.code} value=${r.code}>${r.label}</option>`)}
            </select>
          </div>
          <${Field} id=${`note-${c.id}`} label="A note for our records (optional)" multiline
            value=${note} onInput=${setNote} />
          <div class="actions">
            <button type="submit" disabled=${busy}>Decline</button>
            <button type="button" class="secondary" onClick=${() => setDeclining(false)}>Cancel</button>
          </div>
        </form>`
      : null}
    <${FormError} error=${error ? message(error) : null} />
  </article>`;
}
