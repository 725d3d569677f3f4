// @ts-check
// Programme administration: figures, a matching round and a circle round (each previewed
// first), suspending a user.

import { useState } from '../vendor/hooks.js';
import { call } from '../api.js';
import { Field, FormError, ListState, Title, html, message, useLoad } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

/** @param {PageProps} props */
export function Admin({ me }) {
  if (!me) return null;
  if (me.role !== 'admin') {
    return html`<section>
      <${Title}>Administration</${Title}>
      <p>This page is for the programme's administrators.</p>
    </section>`;
  }
  return html`<section>
    <${Title}>Administration</${Title}>
    <${Stats} />
    <${Round} />
    <${CircleRound} />
    <${Suspend} />
  </section>`;
}

function Stats() {
  const state = useLoad(() => call('get', '/api/v1/admin/stats'), []);
  return html`<section class="panel" aria-labelledby="stats-title">
    <h2 id="stats-title">The programme in figures</h2>
    <${ListState} state=${state} reload=${state.reload} what="the figures"
      isEmpty=${() => false} empty="">
      ${(/** @type {Schemas['Stats']} */ s) => html`<dl class="figures">
        <dt>Practitioners</dt><dd>${s.practitioners}</dd>
        <dt>With a confirmed email</dt><dd>${s.verified}</dd>
        <dt>Isolated (few peers nearby)</dt><dd>${s.isolated}</dd>
        <dt>Mentors offering</dt><dd>${s.mentors_offering}</dd>
        <dt>Free mentoring places</dt><dd>${s.open_mentor_slots}</dd>
        <dt>Requests waiting</dt><dd>${s.connections.pending}</dd>
        <dt>Connections made</dt><dd>${s.connections.accepted}</dd>
        <dt>Declined</dt><dd>${s.connections.declined}</dd>
        <dt>Acceptance rate</dt>
        <dd>${s.acceptance_rate == null ? 'Not yet known' : `${Math.round(s.acceptance_rate * 100)}%`}</dd>
        <dt>Median time to answer</dt>
        <dd>${s.median_response_hours == null ? 'Not yet known' : `${s.median_response_hours.toFixed(1)} hours`}</dd>
        <dt>Emails sent / waiting / failed</dt>
        <dd>${s.emails.sent} / ${s.emails.queued} / ${s.emails.failed}</dd>
        <dt>Circles forming / active / closed</dt>
        <dd>${s.circles.forming} / ${s.circles.active} / ${s.circles.closed}</dd>
        <dt>Waiting for a circle</dt><dd>${s.circles.waiting}</dd>
        <dt>Reported posts still shown</dt><dd>${s.circles.open_reports}</dd>
      </dl>
      <${Outcomes} s=${s} />`}
    </${ListState}>
  </section>`;
}

/**
 * A small bar chart as a table: each row a label, its bar and its figure.
 * @param {{ caption: string, rows: [string, number, string][] }} props
 */
function Chart({ caption, rows }) {
  const top = Math.max(...rows.map(([, value]) => value), 0) || 1;
  return html`<figure class="chart">
    <figcaption>${caption}</figcaption>
    <table>
      <tbody>
        ${rows.map(([label, value, text]) => html`<tr key=${label}>
          <th scope="row">${label}</th>
          <td><span class="bar" aria-hidden="true" style=${`width: ${Math.round((value / top) * 60)}%`}></span>${text}</td>
        </tr>`)}
      </tbody>
    </table>
  </figure>`;
}

/** @param {number | null | undefined} value @param {(v: number) => string} show */
function known(value, show) {
  return value == null ? 'Not yet known' : show(value);
}

/** Whether the programme works: the outcomes, as figures and charts. @param {{ s: Schemas['Stats'] }} props */
function Outcomes({ s }) {
  const o = s.outcomes;
  const f = s.follow_through;
  const percent = (/** @type {number} */ v) => `${Math.round(v * 100)}%`;
  /** A time in days, in the unit that reads best. @param {number} v */
  const days = (v) =>
    v >= 1 ? `${v.toFixed(1)} days` : v * 24 >= 1 ? `${(v * 24).toFixed(1)} hours` : `${Math.round(v * 1440)} minutes`;
  return html`<section aria-labelledby="outcomes-title">
    <h3 id="outcomes-title">Outcomes</h3>
    <${Chart} caption="Practitioners who work alone, and how many have an active connection" rows=${[
      ['Work alone', o.working_alone, String(o.working_alone)],
      ['With an active connection', o.working_alone_connected,
        `${o.working_alone_connected} (${known(o.working_alone_connected_share, percent)})`],
    ]} />
    <${Chart} caption=${`Time from sign-up to a first accepted connection (${o.days_to_first_connection.count} people)`} rows=${[
      ['Median', o.days_to_first_connection.median ?? 0, known(o.days_to_first_connection.median, days)],
      ['9 in 10 within', o.days_to_first_connection.p90 ?? 0, known(o.days_to_first_connection.p90, days)],
    ]} />
    <${Chart} caption="Check-in answers" rows=${[
      ['Going well', f.check_ins_going_well, String(f.check_ins_going_well)],
      ["Haven't met yet", f.check_ins_not_met_yet, String(f.check_ins_not_met_yet)],
      ['Not a good fit', f.check_ins_not_a_good_fit, String(f.check_ins_not_a_good_fit)],
      ['Not answered yet', f.check_ins_unanswered, String(f.check_ins_unanswered)],
    ]} />
    <dl class="figures">
      <dt>Meetings held</dt><dd>${o.meetings_held} (${known(o.meetings_per_connection, (v) => v.toFixed(1))} a connection)</dd>
      <dt>Re-matched after a poor fit</dt><dd>${o.re_matched} of ${o.ended_as_poor_fit}</dd>
      <dt>Agreements accepted / waiting</dt><dd>${f.agreements_accepted} / ${f.agreements_proposed}</dd>
      <dt>Mentors paused / away</dt><dd>${o.mentors_paused} / ${o.mentors_dormant}</dd>
      <dt>Mentorships with no meeting in 30 days</dt><dd>${o.quiet_mentorships.length}</dd>
    </dl>
    ${o.quiet_mentorships.length
      ? html`<table class="quiet">
          <caption>Mentorships with no meeting in 30 days, oldest first</caption>
          <thead><tr><th scope="col">Connection</th><th scope="col">Accepted</th></tr></thead>
          <tbody>${o.quiet_mentorships.map((q) => html`<tr key=${q.connection_id}>
            <td><code>${q.connection_id}</code></td>
            <td>${q.accepted_at ? new Date(q.accepted_at).toLocaleDateString('en-AU', { dateStyle: 'medium' }) : ''}</td>
          </tr>`)}</tbody>
        </table>`
      : null}
  </section>`;
}

/** @type {Map<string, Promise<string>>} */
const names = new Map();
/** @param {string} id */
function nameOf(id) {
  if (!names.has(id)) {
    names.set(
      id,
      call('get', '/api/v1/profiles/{user_id}', { params: { user_id: id } }).then(
        (p) => p.display_name,
        () => id.slice(0, 8),
      ),
    );
  }
  return /** @type {Promise<string>} */ (names.get(id));
}

/**
 * A round run first as a dry run to preview, then for real: its preview, its result, and
 * `run(dryRun)`. `previewed` runs after a preview arrives (to look up names, say).
 * @template R
 * @param {(dryRun: boolean) => Promise<R>} request
 * @param {(result: R) => Promise<void>} [previewed]
 */
function usePreviewedRound(request, previewed) {
  const [preview, setPreview] = useState(/** @type {R | null} */ (null));
  const [done, setDone] = useState(/** @type {R | null} */ (null));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {boolean} dryRun */
  const run = async (dryRun) => {
    setBusy(true);
    setError(null);
    try {
      const result = await request(dryRun);
      setPreview(dryRun ? result : null);
      setDone(dryRun ? null : result);
      if (dryRun) await previewed?.(result);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { preview, done, busy, error, run };
}

function Round() {
  const [labels, setLabels] = useState(/** @type {Record<string, string>} */ ({}));
  const { preview, done, busy, error, run } = usePreviewedRound(
    (dryRun) =>
      call('post', '/api/v1/admin/matching-rounds', {
        body: { kind: 'mentorship', dry_run: dryRun, solver: 'exact' },
      }),
    async (result) => {
      const ids = result.proposals.slice(0, 50).flatMap((p) => [p.mentee_id, p.mentor_id]);
      const found = await Promise.all(ids.map(async (id) => [id, await nameOf(id)]));
      setLabels(Object.fromEntries(found));
    },
  );
  return html`<section class="panel" aria-labelledby="round-title">
    <h2 id="round-title">Mentoring round</h2>
    <p>
      A round pairs people seeking a mentor with mentors who have room. Preview it first;
      nothing is sent until you confirm.
    </p>
    <button type="button" onClick=${() => run(true)} disabled=${busy}>Preview a round</button>
    <div role="status" aria-live="polite">
      ${preview
        ? html`<h3>Preview</h3>
            <p>
              ${`${preview.proposals.length} pairing${preview.proposals.length === 1 ? '' : 's'}; ${preview.unmatched_mentee_ids.length} without a mentor this time.`}
            </p>
            ${preview.proposals.length
              ? html`<ul class="pairs">
                  ${preview.proposals.slice(0, 50).map(
                    (p) => html`<li key=${p.mentee_id}>
                      ${labels[p.mentee_id] ?? '…'} with ${labels[p.mentor_id] ?? '…'}
                      (match ${Math.round(p.score * 100)}%)
                    </li>`,
                  )}
                </ul>`
              : html`<p class="state empty">Nobody to pair right now.</p>`}`
        : null}
      ${done
        ? html`<p class="notice">
            ${`Round done: ${done.proposals.length} request${done.proposals.length === 1 ? '' : 's'} sent to mentors.`}
          </p>`
        : null}
    </div>
    ${preview && preview.proposals.length
      ? html`<button type="button" onClick=${() => run(false)} disabled=${busy}>
          Confirm and send ${preview.proposals.length} request${preview.proposals.length === 1 ? '' : 's'}
        </button>`
      : null}
    <${FormError} error=${error} />
  </section>`;
}

const UNPLACED = /** @type {Record<string, string>} */ ({
  not_eligible: 'no profile that can be placed',
  no_overlap: 'nobody whose working hours overlap theirs',
  too_few_similar: 'too few people like them left this time',
  placed_meanwhile: 'placed by another round meanwhile',
});

function CircleRound() {
  const { preview, done, busy, error, run } = usePreviewedRound((dryRun) =>
    call('post', '/api/v1/admin/circle-rounds', { body: { dry_run: dryRun } }),
  );
  /** @param {Schemas['CircleRoundResult']} r */
  const reasons = (r) => {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const u of r.unplaced) counts[u.reason] = (counts[u.reason] ?? 0) + 1;
    return Object.entries(counts);
  };
  const placed = (/** @type {Schemas['CircleRoundResult']} */ r) =>
    r.circles.reduce((n, c) => n + c.member_ids.length, 0);
  return html`<section class="panel" aria-labelledby="circle-round-title">
    <h2 id="circle-round-title">Circle round</h2>
    <p>
      A round forms circles of four to six from everyone waiting for one, placing those who
      work most alone first. Preview it first; nothing is created until you confirm.
    </p>
    <button type="button" onClick=${() => run(true)} disabled=${busy}>Preview a circle round</button>
    <div role="status" aria-live="polite">
      ${preview
        ? html`<h3>Circle preview</h3>
            <p>
              ${`${preview.circles.length} circle${preview.circles.length === 1 ? '' : 's'} placing ${placed(preview)}; ${preview.unplaced.length} not placed this time.`}
            </p>
            <ul class="plain">
              ${preview.circles.slice(0, 20).map(
                (c, i) => html`<li key=${i}>
                  ${c.domain}: ${c.member_ids.length} members (affinity ${Math.round(c.mean_score * 100)}%)
                </li>`,
              )}
            </ul>
            ${reasons(preview).length
              ? html`<p>Not placed: ${reasons(preview).map(([r, n]) => `${n} with ${UNPLACED[r] ?? r}`).join('; ')}.</p>`
              : null}`
        : null}
      ${done
        ? html`<p class="notice">
            ${`Circle round done: ${done.circles.length} circle${done.circles.length === 1 ? '' : 's'} formed; their members are introduced by email.`}
          </p>`
        : null}
    </div>
    ${preview && preview.circles.length
      ? html`<button type="button" onClick=${() => run(false)} disabled=${busy}>
          Confirm and form ${preview.circles.length} circle${preview.circles.length === 1 ? '' : 's'}
        </button>`
      : null}
    <${FormError} error=${error} />
  </section>`;
}

function Suspend() {
  const [id, setId] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {Event} event */
  const suspend = async (event) => {
    event.preventDefault();
    setError(null);
    setStatus('');
    try {
      await call('post', '/api/v1/admin/users/{user_id}/suspend', { params: { user_id: id.trim() } });
      setStatus('Suspended. They can no longer sign in and are never suggested.');
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="panel" onSubmit=${suspend} aria-labelledby="suspend-title">
    <h2 id="suspend-title">Suspend a user</h2>
    <${Field} id="suspend-id" label="User id" value=${id} onInput=${setId}
      hint="Shown in the address of their profile page (after /people/)." />
    <${FormError} error=${error ? message(error) : null} />
    <button type="submit" class="danger" disabled=${!id.trim()}>Suspend</button>
    <p role="status">${status}</p>
  </form>`;
}
