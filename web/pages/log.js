// @ts-check
// The development log: progress against the requirement the practitioner reports to, what
// is missing, logging an activity, the activities (drafts from held meetings to confirm),
// and the log as CSV or PDF for an audit.

import { useState } from '../vendor/hooks.js';
import { call, download } from '../api.js';
import { Field, FormError, ListState, Title, fieldErrors, html, message, runner, useLoad, usePages } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const KINDS = /** @type {[Schemas['ActivityKind'], string][]} */ ([
  ['course', 'Course'],
  ['reading', 'Reading'],
  ['mentoring_received', 'Mentoring received'],
  ['mentoring_given', 'Mentoring given'],
  ['peer_supervision', 'Peer supervision'],
  ['community_of_practice', 'Community of practice'],
  ['other', 'Other'],
]);
const KIND = Object.fromEntries(KINDS);

/** @param {number} minutes */
function hours(minutes) {
  const h = minutes / 60;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

/** @param {string} day `YYYY-MM-DD` */
function longDay(day) {
  return new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
}

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

/** @param {PageProps} props */
export function DevelopmentLog({ me }) {
  const [round, setRound] = useState(0);
  const changed = () => setRound(round + 1);
  if (!me) return null;
  return html`<section>
    <${Title}>Development log</${Title}>
    <p>Your own record of professional development and supervision, for your regulator. Only you see it.</p>
    <${Progress} round=${round} onChange=${changed} />
    <${NewEntry} onAdded=${changed} />
    <${Entries} round=${round} onChange=${changed} />
    <${Files} />
  </section>`;
}

/** @param {{ round: number, onChange: () => void }} props */
function Progress({ round, onChange }) {
  const state = useLoad(() => call('get', '/api/v1/me/log/summary'), [round]);
  const requirements = useLoad(() => call('get', '/api/v1/log/requirements'), []);
  return html`<section class="panel" aria-labelledby="progress-title">
    <h2 id="progress-title">Progress</h2>
    <${ListState} state=${state} reload=${state.reload} what="your progress" isEmpty=${() => false} empty="">
      ${(/** @type {Schemas['LogSummary']} */ s) => html`
        <p>
          ${s.requirement ? html`<strong>${s.requirement.name}</strong>: ` : null}
          ${longDay(s.period_from)} to ${longDay(s.period_to)}.
        </p>
        ${s.required_minutes
          ? html`<p>
              <label for="log-progress">${hours(s.logged_minutes)} of ${hours(s.required_minutes)} logged</label>
              <progress id="log-progress" max=${s.required_minutes} value=${Math.min(s.logged_minutes, s.required_minutes)}></progress>
            </p>`
          : html`<p>${hours(s.logged_minutes)} logged in this period.</p>`}
        ${s.by_kind.length
          ? html`<ul class="totals">
              ${s.by_kind.map((k) => html`<li key=${k.kind}>${KIND[k.kind] ?? k.kind}: ${hours(k.minutes)} (${k.entries})</li>`)}
            </ul>`
          : null}
        ${s.gaps.length
          ? html`<h3>Still to do</h3><ul>${s.gaps.map((g) => html`<li key=${g}>${g}</li>`)}</ul>`
          : html`<p>Nothing missing for this period.</p>`}
        ${s.requirement
          ? html`<p class="meta">${s.requirement.summary} <a href=${s.requirement.source} rel="noopener noreferrer">The requirement</a></p>`
          : null}
        <${Choose} summary=${s} requirements=${requirements.data ?? []} onChange=${onChange} />`}
    </${ListState}>
  </section>`;
}

/** @param {{ summary: Schemas['LogSummary'], requirements: Schemas['Requirement'][], onChange: () => void }} props */
function Choose({ summary, requirements, onChange }) {
  const [code, setCode] = useState(summary.requirement?.code ?? '');
  const [start, setStart] = useState(summary.cycle_start ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const chosen = requirements.find((r) => r.code === code);
  return html`<form onSubmit=${(/** @type {Event} */ e) => {
    e.preventDefault();
    run(() => call('put', '/api/v1/me/log/requirement', {
      body: { code: code || null, cycle_start: chosen && !chosen.period_starts && start ? start : null },
    }), onChange);
  }}>
    <div class="field">
      <label for="log-requirement">I report to</label>
      <select id="log-requirement" value=${code}
        onChange=${(/** @type {Event} */ e) => setCode(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
        <option value="">Nobody in particular</option>
        ${requirements.map((r) => html`<option key=${r.code} value=${r.code}>${r.name}</option>`)}
      </select>
    </div>
    ${chosen && !chosen.period_starts
      ? html`<${Field} id="log-cycle-start" label="My current cycle started on" type="date" value=${start}
          onInput=${setStart} errors=${fieldErrors(error).cycle_start} />`
      : null}
    <div class="actions"><button type="submit" class="secondary" disabled=${busy}>Save</button></div>
    <${FormError} error=${error && !Object.keys(fieldErrors(error)).length ? error : null} />
  </form>`;
}

/** @param {{ onAdded: () => void }} props */
function NewEntry({ onAdded }) {
  const [day, setDay] = useState(today());
  const [minutes, setMinutes] = useState('60');
  const [kind, setKind] = useState(/** @type {Schemas['ActivityKind']} */ ('course'));
  const [title, setTitle] = useState('');
  const [reflection, setReflection] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [status, setStatus] = useState('');
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<section class="panel" aria-labelledby="new-entry-title">
    <h2 id="new-entry-title">Log an activity</h2>
    <form onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      setStatus('');
      run(() => call('post', '/api/v1/me/log', {
        body: { occurred_on: day, minutes: Number(minutes), kind, title, reflection: reflection || null },
      }), () => {
        setTitle('');
        setReflection('');
        setStatus('Logged.');
        onAdded();
      });
    }}>
      <${Field} id="entry-day" label="Date" type="date" value=${day} onInput=${setDay} errors=${errors.occurred_on} required />
      <${Field} id="entry-minutes" label="Minutes" type="number" min=${1} max=${1440} value=${minutes}
        onInput=${setMinutes} errors=${errors.minutes} required />
      <div class="field">
        <label for="entry-kind">Kind</label>
        <select id="entry-kind" value=${kind}
          onChange=${(/** @type {Event} */ e) => setKind(/** @type {any} */ (/** @type {HTMLSelectElement} */ (e.currentTarget).value))}>
          ${KINDS.map(([code, text]) => html`<option key=${code} value=${code}>${text}</option>`)}
        </select>
      </div>
      <${Field} id="entry-title" label="What you did" value=${title} onInput=${setTitle} errors=${errors.title} required />
      <${Field} id="entry-reflection" label="Reflection (optional)" multiline value=${reflection} onInput=${setReflection}
        hint="What you learned, and how you will apply it. Leave out anything that could identify a client."
        errors=${errors.reflection} />
      <div class="actions"><button type="submit" disabled=${busy}>Log it</button></div>
      <p role="status">${status}</p>
      <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
    </form>
  </section>`;
}

/** @param {{ round: number, onChange: () => void }} props */
function Entries({ round, onChange }) {
  const { state, more, cursor, moreError, loadMore } = usePages(
    (/** @type {string | undefined} */ from) => call('get', '/api/v1/me/log', { query: { limit: 20, cursor: from } }),
    [round],
  );
  return html`<section class="panel" aria-labelledby="entries-title">
    <h2 id="entries-title">Activities</h2>
    <${ListState} state=${state} reload=${state.reload} what="your log"
      isEmpty=${(/** @type {Schemas['LogPage']} */ p) => p.items.length === 0}
      empty="Nothing logged yet. Meetings you mark as held in a circle arrive here as drafts to confirm.">
      ${(/** @type {Schemas['LogPage']} */ page) => html`<ul class="cards">
        ${[...page.items, ...more].map((e) => html`<li key=${e.id}><${EntryCard} entry=${e} onChange=${onChange} /></li>`)}
      </ul>
      ${cursor ? html`<button type="button" class="secondary" onClick=${loadMore}>Show more</button>` : null}
      <${FormError} error=${moreError} />`}
    </${ListState}>
  </section>`;
}

/** @param {{ entry: Schemas['LogEntry'], onChange: () => void }} props */
function EntryCard({ entry: e, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const params = { id: e.id };
  const heading = `entry-${e.id}`;
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}>${e.title}</h3>
    <p class="meta">${longDay(e.occurred_on)} · ${hours(e.minutes)} · ${KIND[e.kind] ?? e.kind}</p>
    ${e.draft ? html`<p><span class="tag">Draft from a held meeting: confirm it to count it</span></p>` : null}
    ${e.reflection ? html`<p class="reflection">${e.reflection}</p>` : null}
    <div class="actions">
      ${e.draft
        ? html`<button type="button" disabled=${busy}
            onClick=${() => run(() => call('patch', '/api/v1/me/log/{id}', { params, body: { draft: false } }), onChange)}>
            Confirm
          </button>`
        : null}
      <button type="button" class="link" disabled=${busy}
        onClick=${() => confirm(`Delete “${e.title}” from your log?`) &&
          run(() => call('delete', '/api/v1/me/log/{id}', { params }), onChange)}>
        Delete
      </button>
    </div>
    <${FormError} error=${error} />
  </article>`;
}

function Files() {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {'csv' | 'pdf'} kind */
  const get = async (kind) => {
    setError(null);
    setStatus('Preparing your file…');
    try {
      const name = `development-log.${kind}`;
      await download(`/api/v1/me/log/export.${kind}`, { from: from || undefined, to: to || undefined }, name);
      setStatus(`Downloaded: ${name}`);
    } catch (e) {
      setStatus('');
      setError(e);
    }
  };
  const errors = fieldErrors(error);
  return html`<section class="panel" aria-labelledby="files-title">
    <h2 id="files-title">For an audit</h2>
    <p>Download your log, oldest first with totals per kind: a PDF to hand in, or a CSV for a spreadsheet.
      Without dates, it covers your current period.</p>
    <${Field} id="files-from" label="From (optional)" type="date" value=${from} onInput=${setFrom} errors=${errors.from} />
    <${Field} id="files-to" label="To (optional)" type="date" value=${to} onInput=${setTo} errors=${errors.to} />
    <div class="actions">
      <button type="button" onClick=${() => get('pdf')}>Download PDF</button>
      <button type="button" class="secondary" onClick=${() => get('csv')}>Download CSV</button>
    </div>
    <p role="status">${status}</p>
    ${error && !Object.keys(errors).length ? html`<p role="alert">${message(error)}</p>` : null}
  </section>`;
}
