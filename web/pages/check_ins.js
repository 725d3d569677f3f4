// @ts-check
// Check-ins: "How is it going?" answered from the email's one-click link, or in the app
// beside the caller's connections.

import { useEffect, useState } from '../vendor/hooks.js';
import { ApiError, call } from '../api.js';
import { FormError, Title, html, runner, useLoad } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const ANSWERS = /** @type {[Schemas['CheckInAnswer'], string][]} */ ([
  ['going_well', 'Going well'],
  ['not_met_yet', "We haven't met yet"],
  ['not_a_good_fit', 'Not a good fit'],
]);

/** @param {{ outcome: Schemas['CheckInOutcome'] }} props */
function Answered({ outcome }) {
  const name = outcome.check_in.with_name ?? 'them';
  if (!outcome.ended) {
    return html`<p>Thank you. Your answer helps the programme keep connections going.</p>`;
  }
  return html`<p>Your connection with ${name} has ended. They are told it ended, never why.</p>
    ${outcome.suggestions.length
      ? html`<h2>People who may fit you better</h2>
          <ul class="cards">
            ${outcome.suggestions.map((s) => html`<li key=${s.profile.user_id}>
              <article class="card"><h3><a href=${`/people/${s.profile.user_id}`}>${s.profile.display_name}</a></h3>
                <p class="meta">${s.reasons.map((r) => r.label).join('; ')}</p></article>
            </li>`)}
          </ul>`
      : html`<p><a href="/suggestions">See your suggestions</a> for someone new.</p>`}`;
}

/** The page an emailed answer link opens: it answers at once. @param {PageProps} props */
export function CheckInLink({ query }) {
  const token = query.get('token') ?? '';
  const [outcome, setOutcome] = useState(/** @type {Schemas['CheckInOutcome'] | null} */ (null));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  useEffect(() => {
    call('post', '/api/v1/check-ins/answer', { body: { token } }).then(setOutcome, setError);
  }, []);
  if (outcome) {
    return html`<section><${Title}>Thank you for answering</${Title}><${Answered} outcome=${outcome} /></section>`;
  }
  if (!error) return html`<section><${Title}>Saving your answer…</${Title}></section>`;
  const used = error instanceof ApiError && error.status === 409;
  return html`<section>
    <${Title}>${used ? 'This check-in is already answered' : 'This link does not work'}</${Title}>
    <p role="alert">${used ? 'Each check-in takes one answer.' : error instanceof Error ? error.message : ''}</p>
    <p><a href="/connections">Your connections</a></p>
  </section>`;
}

/** The caller's open check-ins, each answered with one press. */
export function OpenCheckIns() {
  const state = useLoad(() => call('get', '/api/v1/me/check-ins'), []);
  const [outcome, setOutcome] = useState(/** @type {Schemas['CheckInOutcome'] | null} */ (null));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const open = state.data ?? [];
  if (!open.length && !outcome) return null;
  return html`<section class="panel" aria-labelledby="check-ins-title">
    <h2 id="check-ins-title">How is it going?</h2>
    ${outcome ? html`<div role="status"><${Answered} outcome=${outcome} /></div>` : null}
    <ul class="cards">
      ${open.map((c) => html`<li key=${c.id}>
        <fieldset class="card">
          <legend>With ${c.with_name ?? 'a former connection'}</legend>
          <div class="actions">
            ${ANSWERS.map(([code, text]) => html`<button type="button" key=${code} disabled=${busy}
              class=${code === 'going_well' ? '' : 'secondary'}
              onClick=${() => run(async () => {
                setOutcome(await call('post', '/api/v1/me/check-ins/{id}', { params: { id: c.id }, body: { answer: code } }));
              }, state.reload)}>${text}</button>`)}
          </div>
        </fieldset>
      </li>`)}
    </ul>
    <${FormError} error=${error} />
  </section>`;
}
