// @ts-check
// Suggestions (peers and mentors, with the reasons), the directory, and a person's public
// profile, from which a request is sent.

import { useEffect, useState } from '../vendor/hooks.js';
import { ApiError, call } from '../api.js';
import {
  Field,
  FormError,
  ListState,
  Title,
  html,
  label,
  languageName,
  message,
  placeName,
  useLoad,
  usePages,
  useVocabulary,
} from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */
/** @typedef {Schemas['VocabularyLists'] | null} Vocabulary */

/**
 * Where someone is and how far.
 * @param {Schemas['PublicProfile']} p
 */
function whereabouts(p) {
  const far = p.distance_km == null ? '' : p.distance_km === 0 ? ' · under 10 km away' : ` · about ${p.distance_km} km away`;
  return `${placeName(p.place)}${far}`;
}

/**
 * @param {{ profile: Schemas['PublicProfile'], vocabulary: Vocabulary,
 *   reasons?: Schemas['ReasonView'][], headingLevel?: number }} props
 */
function PersonCard({ profile: p, vocabulary, reasons }) {
  return html`<article class="card" aria-labelledby=${`person-${p.user_id}`}>
    <h3 id=${`person-${p.user_id}`}>
      <a href=${`/people/${p.user_id}`}>${p.display_name}</a>
    </h3>
    <p class="meta">
      ${`${label(vocabulary?.professions, p.profession)} · ${p.years_experience} years · ${whereabouts(p)}`}
    </p>
    ${p.mentoring.offering
      ? html`<p class="tag">
          ${p.mentoring.available_slots > 0
            ? `Mentoring: ${p.mentoring.available_slots} place${p.mentoring.available_slots === 1 ? '' : 's'} free`
            : 'Mentoring: no places free'}
        </p>`
      : null}
    ${reasons?.length
      ? html`<div class="reasons">
          <p>Why we suggest them:</p>
          <ul>${reasons.map((r) => html`<li key=${r.code}>${r.label}</li>`)}</ul>
        </div>`
      : null}
  </article>`;
}

/** @param {{ isolation: Schemas['Isolation'] | null | undefined }} props */
function Isolation({ isolation }) {
  if (!isolation) return null;
  const n = isolation.peers_within_50km;
  return html`<p class="notice">
    ${n === 0
      ? 'No one who shares your profession is within 50 km of you yet. '
      : `${n} ${n === 1 ? 'peer is' : 'peers are'} within 50 km of you. `}
    ${n < 3
      ? 'We look further afield for you and suggest people you can meet online, and we tell you when someone new joins near you.'
      : 'Your suggestions mix people nearby with people further away who share your practice.'}
  </p>`;
}

/** @param {PageProps} props */
export function Suggestions({ me, query }) {
  const vocabulary = useVocabulary();
  const kind = query.get('kind') === 'mentor' ? 'mentor' : 'peer';
  const state = useLoad(
    () => call('get', '/api/v1/me/suggestions', { query: { kind, limit: 10 } }),
    [kind],
  );
  if (!me) return null;
  if (!me.profile) {
    return html`<section>
      <${Title}>Suggestions</${Title}>
      <p>Tell us about your practice first, so that we can find your people.</p>
      <p><a class="button" href="/profile">Fill in your profile</a></p>
    </section>`;
  }
  return html`<section>
    <${Title}>Suggestions</${Title}>
    <${Isolation} isolation=${me.isolation} />
    <nav class="tabs" aria-label="Kind of suggestion">
      <a href="/suggestions" aria-current=${kind === 'peer' ? 'page' : undefined}>Peers</a>
      <a href="/suggestions?kind=mentor" aria-current=${kind === 'mentor' ? 'page' : undefined}>Mentors</a>
    </nav>
    <h2>${kind === 'mentor' ? 'Mentors for you' : 'Peers for you'}</h2>
    <${ListState}
      state=${state}
      reload=${state.reload}
      what="suggestions"
      isEmpty=${(/** @type {Schemas['Suggestions']} */ d) => d.items.length === 0}
      empty=${kind === 'mentor'
        ? 'No mentor with a free place matches you yet. We will email you when one does.'
        : 'No peers match you yet. We will email you when someone does.'}
    >
      ${(/** @type {Schemas['Suggestions']} */ data) => html`<ul class="cards">
        ${data.items.map(
          (item) => html`<li key=${item.profile.user_id}>
            <${PersonCard} profile=${item.profile} vocabulary=${vocabulary} reasons=${item.reasons} />
          </li>`,
        )}
      </ul>`}
    </${ListState}>
  </section>`;
}

/** @param {PageProps} props */
export function Directory({ query }) {
  const vocabulary = useVocabulary();
  const [filters, setFilters] = useState({
    kind: query.get('kind') ?? 'peer',
    profession: query.get('profession') ?? '',
    population: '',
    setting: '',
    language: '',
    within_km: '',
  });
  const [applied, setApplied] = useState(filters);
  const { state, more, cursor, moreError, loadMore } = usePages(
    (/** @type {string | undefined} */ from) =>
      call('get', '/api/v1/directory', {
        query: /** @type {any} */ ({
          ...applied,
          within_km: applied.within_km ? Number(applied.within_km) : undefined,
          limit: 20,
          cursor: from,
        }),
      }),
    [applied],
  );
  /** @param {string} key @param {{code: string, label: string}[]} options @param {string} text */
  const select = (key, options, text) => html`<div class="field">
    <label for=${`filter-${key}`}>${text}</label>
    <select
      id=${`filter-${key}`}
      value=${/** @type {any} */ (filters)[key]}
      onChange=${(/** @type {Event} */ e) =>
        setFilters({ ...filters, [key]: /** @type {HTMLSelectElement} */ (e.currentTarget).value })}
    >
      ${options.map((o) => html`<option key=${o.code} value=${o.code}>${o.label}</option>`)}
    </select>
  </div>`;
  const any = { code: '', label: 'Any' };
  return html`<section>
    <${Title}>Directory</${Title}>
    <form
      class="filters"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        setApplied(filters);
      }}
    >
      ${select('kind', [{ code: 'peer', label: 'Peers' }, { code: 'mentor', label: 'Mentors with a free place' }], 'Looking for')}
      ${select('profession', [any, ...(vocabulary?.professions ?? [])], 'Profession')}
      ${select('population', [any, ...(vocabulary?.populations ?? [])], 'Works with')}
      ${select('setting', [any, ...(vocabulary?.settings ?? [])], 'Setting')}
      ${select('language', [any, ...(vocabulary?.languages ?? []).map((c) => ({ code: c, label: languageName(c) })).sort((a, b) => a.label.localeCompare(b.label))], 'Language')}
      ${select('within_km', [{ code: '', label: 'Any distance' }, ...[25, 50, 100, 250, 500].map((km) => ({ code: String(km), label: `Within ${km} km` }))], 'Distance')}
      <button type="submit">Search</button>
    </form>
    <h2>Results</h2>
    <${ListState}
      state=${state}
      reload=${state.reload}
      what="the directory"
      isEmpty=${(/** @type {Schemas['DirectoryPage']} */ d) => d.items.length === 0}
      empty="Nobody matches these filters. Try fewer, or a longer distance."
    >
      ${(/** @type {Schemas['DirectoryPage']} */ data) => html`<ul class="cards">
          ${[...data.items, ...more].map(
            (p) => html`<li key=${p.user_id}><${PersonCard} profile=${p} vocabulary=${vocabulary} /></li>`,
          )}
        </ul>
        ${cursor ? html`<button type="button" class="secondary" onClick=${loadMore}>Show more</button>` : null}
        <${FormError} error=${moreError} />`}
    </${ListState}>
  </section>`;
}

/** @param {PageProps} props */
export function PersonPage({ me, params }) {
  const vocabulary = useVocabulary();
  const state = useLoad(
    () => call('get', '/api/v1/profiles/{user_id}', { params: { user_id: params.id } }),
    [params.id],
  );
  const p = state.data;
  if (state.loading) return html`<p class="state" role="status">Loading…</p>`;
  if (!p) {
    const missing = state.error instanceof ApiError && state.error.status === 404;
    return html`<section>
      <${Title}>${missing ? 'Profile not found' : 'Could not load this profile'}</${Title}>
      <p role="alert">
        ${missing ? 'This person is not on Alongside, or their profile is not open to you.' : message(state.error)}
      </p>
      <p><a href="/suggestions">Back to your suggestions</a></p>
    </section>`;
  }
  const self = me?.user_id === p.user_id;
  return html`<section>
    <${Title}>${p.display_name}</${Title}>
    <p class="meta">${label(vocabulary?.professions, p.profession)} · ${p.years_experience} years in practice</p>
    <p>${whereabouts(p)}</p>
    ${p.bio ? html`<p class="bio">${p.bio}</p>` : null}
    <dl class="facts">
      <dt>Works with</dt><dd>${p.populations.map((c) => label(vocabulary?.populations, c)).join(', ')}</dd>
      <dt>Settings</dt><dd>${p.settings.map((c) => label(vocabulary?.settings, c)).join(', ')}</dd>
      <dt>Languages</dt><dd>${p.languages.map(languageName).join(', ')}</dd>
      <dt>Meets</dt><dd>${p.meeting_modes.map((c) => label(vocabulary?.meeting_modes, c)).join(', ')}</dd>
      <dt>Time zone</dt><dd>${p.timezone}</dd>
      ${p.interests.length ? html`<dt>Interests</dt><dd>${p.interests.join(', ')}</dd>` : null}
      <dt>Works alone</dt><dd>${p.works_alone ? 'Yes, the only one of their profession at work' : 'No'}</dd>
      <dt>Mentoring</dt>
      <dd>
        ${p.mentoring.offering
          ? p.mentoring.paused_until
            ? `Paused until ${p.mentoring.paused_until}`
            : `${p.mentoring.available_slots} place${p.mentoring.available_slots === 1 ? '' : 's'} free`
          : 'Not offering'}
      </dd>
    </dl>
    ${self ? html`<p><a href="/profile">Edit your profile</a></p>` : html`<${RequestForm} profile=${p} />
      <${BlockControl} profile=${p} />`}
  </section>`;
}

/** @param {{ profile: Schemas['PublicProfile'] }} props */
function RequestForm({ profile: p }) {
  const canMentor = p.mentoring.offering && p.mentoring.available_slots > 0 && !p.mentoring.paused_until;
  const [kind, setKind] = useState(/** @type {Schemas['ConnectionKind']} */ ('peer'));
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [sent, setSent] = useState(false);
  /** @param {Event} event */
  const send = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('post', '/api/v1/connections', {
        body: { recipient_id: p.user_id, kind, message: note || null },
      });
      setSent(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (sent) {
    return html`<p class="notice" role="status">
      ${`Request sent. We have emailed ${p.display_name}; you will hear when they answer. `}
      <a href="/connections?direction=outgoing">See your requests</a>
    </p>`;
  }
  const limit = error instanceof ApiError && error.status === 429
    ? 'You have sent as many requests as you can today. You can send more tomorrow.'
    : error;
  return html`<form class="panel" onSubmit=${send} aria-labelledby="request-title">
    <h2 id="request-title">Ask to connect</h2>
    ${canMentor
      ? html`<fieldset>
          <legend>What are you asking for?</legend>
          <div class="check">
            <input type="radio" id="kind-peer" name="kind" checked=${kind === 'peer'}
              onChange=${() => setKind('peer')} />
            <label for="kind-peer">To connect as peers</label>
          </div>
          <div class="check">
            <input type="radio" id="kind-mentorship" name="kind" checked=${kind === 'mentorship'}
              onChange=${() => setKind('mentorship')} />
            <label for="kind-mentorship">To be mentored</label>
          </div>
        </fieldset>`
      : null}
    <${Field} id="message" label="A message (optional)" multiline value=${note} onInput=${setNote}
      hint="Say who you are and why you would like to connect." />
    <${FormError} error=${limit} />
    <button type="submit" disabled=${busy}>${busy ? 'Sending…' : 'Send request'}</button>
  </form>`;
}

/** @param {{ profile: Schemas['PublicProfile'] }} props */
function BlockControl({ profile: p }) {
  const [blocked, setBlocked] = useState(false);
  useEffect(() => {
    call('get', '/api/v1/me/blocks').then(
      (list) => setBlocked(list.items.some((b) => b.user_id === p.user_id)),
      () => {},
    );
  }, [p.user_id]);
  const [status, setStatus] = useState('');
  const toggle = async () => {
    try {
      if (blocked) {
        await call('delete', '/api/v1/me/blocks/{user_id}', { params: { user_id: p.user_id } });
        setStatus(`${p.display_name} is no longer blocked.`);
      } else {
        await call('post', '/api/v1/me/blocks', { body: { user_id: p.user_id } });
        setStatus(`${p.display_name} is blocked: neither of you will be suggested to, listed for, or able to ask the other.`);
      }
      setBlocked(!blocked);
    } catch (e) {
      setStatus(message(e));
    }
  };
  return html`<details class="block">
    <summary>${blocked ? `${p.display_name} is blocked` : `Block ${p.display_name}`}</summary>
    <p>Blocking hides each of you from the other and withdraws any pending request between you.</p>
    <button type="button" class="danger" onClick=${toggle}>${blocked ? 'Unblock' : 'Block'}</button>
    <p role="status">${status}</p>
  </details>`;
}
