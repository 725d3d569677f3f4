// @ts-check
// One connection, for its two sides: the agreement they make (goals, how often and how they
// meet, for how long, what stays between them) and their meetings (one side proposes
// times, the other picks one; both get a calendar invitation).

import { useState } from '../vendor/hooks.js';
import { ApiError, call } from '../api.js';
import { Field, FormError, ListState, Title, fieldErrors, html, runner, useLoad } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const MODES = /** @type {[Schemas['MeetingMode'], string][]} */ ([
  ['video', 'By video'],
  ['phone', 'By phone'],
  ['in_person', 'In person'],
  ['mixed', 'A mix'],
]);

/**
 * A moment in the reader's own time zone, e.g. "Thursday 14 January 2027 at 18:00".
 * @param {string} at @param {string} timezone
 */
function when(at, timezone) {
  return new Date(at).toLocaleString('en-AU', {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone: timezone,
  });
}

/** @param {PageProps} props */
export function ConnectionPage({ me, params }) {
  const id = params.id ?? '';
  const state = useLoad(() => call('get', '/api/v1/connections/{id}', { params: { id } }), [id]);
  if (!me) return null;
  return html`<${ListState} state=${state} reload=${state.reload} what="this connection"
    isEmpty=${() => false} empty="">
    ${(/** @type {Schemas['ConnectionView']} */ c) => {
      const other = c.requester.user_id === me.user_id ? c.recipient : c.requester;
      return html`<section>
        <${Title}>You and ${other.display_name}</${Title}>
        <p class="meta">${c.kind === 'mentorship' ? 'Mentoring' : 'Peers'} · <a href="/connections">All connections</a></p>
        ${c.status === 'accepted'
          ? html`<${Agreement} id=${id} other=${other.display_name} />
              <${Meetings} id=${id} other=${other.display_name} />`
          : html`<p>This connection is not active, so there is nothing to agree or plan.</p>`}
      </section>`;
    }}
  </${ListState}>`;
}

/** @param {{ id: string, other: string }} props */
function Agreement({ id, other }) {
  // None yet is a 404: the data is then `{ agreement: null }`, never empty.
  const state = useLoad(async () => {
    try {
      return { agreement: await call('get', '/api/v1/connections/{id}/agreement', { params: { id } }) };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return { agreement: null };
      throw e;
    }
  }, [id]);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const agreement = state.data?.agreement;
  return html`<section class="panel" aria-labelledby="agreement-title">
    <h2 id="agreement-title">Your agreement</h2>
    <${ListState} state=${state} reload=${state.reload} what="the agreement" isEmpty=${() => false} empty="">
      ${() => {
        if (editing || !agreement) {
          return html`<${Terms} id=${id} agreement=${agreement} other=${other}
            onDone=${() => { setEditing(false); state.reload(); }}
            onCancel=${agreement ? () => setEditing(false) : null} />`;
        }
        return html`<div>
          <p role="status">${agreement.status === 'accepted'
            ? 'You both agreed to this.'
            : agreement.awaiting_me
              ? `${other} proposed this. Accept it, or propose changes.`
              : `Waiting for ${other} to accept.`}</p>
          <h3>Goals</h3>
          <ul class="goals">
            ${agreement.goals.map((g, n) => html`<li key=${n}>
              <label><input type="checkbox" checked=${g.done} disabled=${busy}
                onChange=${(/** @type {Event} */ e) => run(() => call('put', '/api/v1/connections/{id}/agreement/goals/{n}', {
                  params: { id, n },
                  body: { done: /** @type {HTMLInputElement} */ (e.currentTarget).checked },
                }), state.reload)} />
                ${g.done ? html`<s>${g.text}</s>` : g.text}${g.done ? ' (done)' : ''}</label>
            </li>`)}
          </ul>
          <dl class="figures">
            <dt>How often</dt><dd>${agreement.cadence}</dd>
            <dt>For how long</dt><dd>${agreement.duration_months} months</dd>
            <dt>How</dt><dd>${MODES.find(([code]) => code === agreement.mode)?.[1] ?? agreement.mode}</dd>
            ${agreement.confidentiality ? html`<dt>What stays between you</dt><dd>${agreement.confidentiality}</dd>` : null}
          </dl>
          <div class="actions">
            ${agreement.awaiting_me
              ? html`<button type="button" disabled=${busy}
                  onClick=${() => run(() => call('post', '/api/v1/connections/{id}/agreement/accept', { params: { id } }), state.reload)}>
                  Accept the agreement</button>`
              : null}
            <button type="button" class="secondary" onClick=${() => setEditing(true)}>Propose changes</button>
          </div>
          <${FormError} error=${error} />
        </div>`;
      }}
    </${ListState}>
  </section>`;
}

/**
 * The agreement's terms as a form: a new proposal, or an edit of the current one.
 * @param {{ id: string, agreement: Schemas['AgreementView'] | null | undefined, other: string,
 *   onDone: () => void, onCancel: (() => void) | null }} props
 */
function Terms({ id, agreement, other, onDone, onCancel }) {
  const [goals, setGoals] = useState(agreement ? agreement.goals.map((g) => g.text).join('\n') : '');
  const [cadence, setCadence] = useState(agreement?.cadence ?? 'Every two weeks, an hour');
  const [months, setMonths] = useState(String(agreement?.duration_months ?? 6));
  const [mode, setMode] = useState(/** @type {Schemas['MeetingMode']} */ (agreement?.mode ?? 'video'));
  const [note, setNote] = useState(agreement?.confidentiality ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<form onSubmit=${(/** @type {Event} */ e) => {
    e.preventDefault();
    run(() => call('put', '/api/v1/connections/{id}/agreement', {
      params: { id },
      body: {
        goals: goals.split('\n').map((g) => g.trim()).filter(Boolean),
        cadence,
        duration_months: Number(months),
        mode,
        confidentiality: note || null,
      },
    }), onDone);
  }}>
    <p class="hint">${other} sees what you propose and accepts it or suggests changes. Nobody else reads it.</p>
    <${Field} id="agreement-goals" label="Goals, one a line" multiline value=${goals} onInput=${setGoals}
      errors=${errors.goals} required />
    <${Field} id="agreement-cadence" label="How often you meet" value=${cadence} onInput=${setCadence}
      errors=${errors.cadence} required />
    <${Field} id="agreement-months" label="For how many months" type="number" min=${1} max=${24}
      value=${months} onInput=${setMonths} errors=${errors.duration_months} required />
    <div class="field">
      <label for="agreement-mode">How you meet</label>
      <select id="agreement-mode" value=${mode}
        onChange=${(/** @type {Event} */ e) => setMode(/** @type {any} */ (/** @type {HTMLSelectElement} */ (e.currentTarget).value))}>
        ${MODES.map(([code, text]) => html`<option key=${code} value=${code}>${text}</option>`)}
      </select>
    </div>
    <${Field} id="agreement-note" label="What stays between you (optional)" multiline value=${note}
      onInput=${setNote} errors=${errors.confidentiality}
      hint="For example: what we discuss about clients stays between us." />
    <div class="actions">
      <button type="submit" disabled=${busy}>${agreement ? 'Propose these changes' : 'Propose the agreement'}</button>
      ${onCancel ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
    </div>
    <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
  </form>`;
}

/** @param {{ id: string, other: string }} props */
function Meetings({ id, other }) {
  const state = useLoad(() => call('get', '/api/v1/connections/{id}/meetings', { params: { id } }), [id]);
  return html`<section class="panel" aria-labelledby="meetings-title">
    <h2 id="meetings-title">Meetings</h2>
    <${ListState} state=${state} reload=${state.reload} what="your meetings"
      isEmpty=${(/** @type {Schemas['ConnectionMeetingView'][]} */ d) => d.length === 0}
      empty=${`You have not planned a meeting with ${other} yet.`}>
      ${(/** @type {Schemas['ConnectionMeetingView'][]} */ list) => html`<ul class="cards">
        ${list.map((m) => html`<li key=${m.id}><${MeetingCard} id=${id} meeting=${m} other=${other} onChange=${state.reload} /></li>`)}
      </ul>`}
    </${ListState}>
    <${ProposeMeeting} id=${id} other=${other} onDone=${state.reload} />
  </section>`;
}

/**
 * @param {{ id: string, meeting: Schemas['ConnectionMeetingView'], other: string, onChange: () => void }} props
 */
function MeetingCard({ id, meeting: m, other, onChange }) {
  const [choice, setChoice] = useState(m.options[0]?.starts_at ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const params = { id, meeting_id: m.id };
  const heading = `meeting-${m.id}`;
  const started = m.scheduled != null && new Date(m.scheduled.starts_at) <= new Date();
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}>${m.title}</h3>
    ${m.status === 'scheduled' && m.scheduled
      ? html`<p>${when(m.scheduled.starts_at, m.local_timezone)} (${m.local_timezone}), ${m.duration_minutes} minutes</p>`
      : null}
    ${m.location ? html`<p class="meta">Where: ${m.location}</p>` : null}
    ${m.status === 'cancelled' ? html`<p class="meta">Cancelled</p>` : null}
    ${m.status === 'missed' ? html`<p class="meta">It did not take place.</p>` : null}
    ${m.held_at ? html`<p class="meta">It took place: a draft is in your <a href="/log">development log</a> to confirm.</p>` : null}
    ${m.status === 'proposed' && m.awaiting_me
      ? html`<fieldset>
          <legend>${other} proposed these times. Which suits you? (${m.local_timezone})</legend>
          ${m.options.map((o) => html`<label key=${o.starts_at} class="choice">
            <input type="radio" name=${`time-${m.id}`} value=${o.starts_at} checked=${choice === o.starts_at}
              onChange=${() => setChoice(o.starts_at)} />
            ${when(o.starts_at, m.local_timezone)}
          </label>`)}
          <div class="actions">
            <button type="button" disabled=${busy}
              onClick=${() => run(() => call('post', '/api/v1/connections/{id}/meetings/{meeting_id}/choose', {
                params, body: { starts_at: choice },
              }), onChange)}>Pick this time</button>
          </div>
        </fieldset>`
      : null}
    ${m.status === 'proposed' && !m.awaiting_me
      ? html`<p class="meta">Waiting for ${other} to pick one of: ${m.options.map((o) => when(o.starts_at, m.local_timezone)).join('; ')}</p>`
      : null}
    <div class="actions">
      ${m.status === 'scheduled' && started && !m.held_at
        ? html`<button type="button" disabled=${busy}
            onClick=${() => run(() => call('post', '/api/v1/connections/{id}/meetings/{meeting_id}/held', { params }), onChange)}>
            It took place</button>
          <button type="button" class="secondary" disabled=${busy}
            onClick=${() => run(() => call('post', '/api/v1/connections/{id}/meetings/{meeting_id}/missed', { params }), onChange)}>
            It did not happen</button>`
        : null}
      ${(m.status === 'proposed' || m.status === 'scheduled') && !m.held_at
        ? html`<button type="button" class="secondary" disabled=${busy}
            onClick=${() => confirm(`Cancel "${m.title}"? ${other} is told.`) &&
              run(() => call('post', '/api/v1/connections/{id}/meetings/{meeting_id}/cancel', { params }), onChange)}>
            Cancel meeting</button>`
        : null}
    </div>
    <${FormError} error=${error} />
  </article>`;
}

/** @param {{ id: string, other: string, onDone: () => void }} props */
function ProposeMeeting({ id, other, onDone }) {
  const [title, setTitle] = useState('');
  const [times, setTimes] = useState(['', '', '']);
  const [minutes, setMinutes] = useState('45');
  const [location, setLocation] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [status, setStatus] = useState('');
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<form aria-labelledby="propose-title" onSubmit=${(/** @type {Event} */ e) => {
    e.preventDefault();
    setStatus('');
    run(() => call('post', '/api/v1/connections/{id}/meetings', {
      params: { id },
      body: {
        title,
        times: times.filter(Boolean),
        duration_minutes: Number(minutes),
        location: location || null,
      },
    }), () => {
      setTitle('');
      setTimes(['', '', '']);
      setStatus(`Proposed. ${other} is emailed the times to pick from.`);
      onDone();
    });
  }}>
    <h3 id="propose-title">Propose a meeting</h3>
    <${Field} id="meeting-title" label="What it is about" value=${title} onInput=${setTitle} errors=${errors.title} required />
    ${times.map((t, n) => html`<${Field} key=${n} id=${`meeting-time-${n}`} type="datetime-local"
      label=${n === 0 ? 'A time that suits you (your time zone)' : `Another time (optional)`}
      value=${t} onInput=${(/** @type {string} */ v) => setTimes(times.map((old, i) => (i === n ? v : old)))}
      errors=${n === 0 ? errors.times : undefined} required=${n === 0} />`)}
    <${Field} id="meeting-minutes" label="Minutes" type="number" min=${15} max=${240} value=${minutes}
      onInput=${setMinutes} errors=${errors.duration_minutes} required />
    <${Field} id="meeting-location" label="Where, or the video link (optional)" value=${location}
      onInput=${setLocation} errors=${errors.location} />
    <div class="actions"><button type="submit" disabled=${busy}>Propose</button></div>
    <p role="status">${status}</p>
    <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
  </form>`;
}
