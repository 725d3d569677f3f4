// @ts-check
// Circles: the caller's circles, finding and starting one, waiting for a formation round;
// and one circle's page with its members, requests to join, discussion, meetings and links.

import { useState } from '../vendor/hooks.js';
import { call } from '../api.js';
import { Check, Field, FormError, ListState, Title, fieldErrors, html, label, message, navigate, runner, useLoad, usePages, useVocabulary } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const STATE = /** @type {Record<string, string>} */ ({
  forming: 'Forming',
  active: 'Active',
  closed: 'Closed',
});
const PLACE = /** @type {Record<string, string>} */ ({
  pending: 'You asked to join',
  member: 'Member',
  facilitator: 'You facilitate',
});

/** Plain text with its http(s) links made into links. @param {{ text: string }} props */
function Linked({ text }) {
  const parts = text.split(/(https?:\/\/[^\s<>"]+)/g);
  return html`${parts.map((part, i) =>
    i % 2 === 1
      ? html`<a key=${i} href=${part} rel="noopener noreferrer nofollow">${part}</a>`
      : part,
  )}`;
}

/** @param {string} iso */
function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

/** @param {{ circle: Schemas['CircleSummary'] }} props */
function CircleCard({ circle: c }) {
  const vocabulary = useVocabulary();
  const heading = `circle-${c.id}`;
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}><a href=${`/circles/${c.id}`}>${c.domain}</a></h3>
    <p class="meta">
      ${STATE[c.state] ?? c.state} · ${c.members} of ${c.cap} members
      ${c.open_seats ? ` · ${c.open_seats} free ${c.open_seats === 1 ? 'seat' : 'seats'}` : ''}
    </p>
    <p class="meta">
      ${c.profession === 'interprofessional' ? 'Interprofessional' : label(vocabulary?.professions, c.profession)}
      ${' · '}working hours around ${c.utc_offset}
      ${c.distance_km !== null && c.distance_km !== undefined ? ` · about ${c.distance_km} km away` : ''}
    </p>
    ${c.my_place ? html`<p><span class="tag">${PLACE[c.my_place]}</span></p>` : null}
  </article>`;
}

/** @param {PageProps} props */
export function Circles({ me }) {
  const mine = useLoad(() => call('get', '/api/v1/me/circles'), []);
  if (!me) return null;
  return html`<section>
    <${Title}>Circles</${Title}>
    <p>
      A circle is four to eight practitioners who share a kind of practice and meet to learn
      together: a discussion, case studies, meetings and a shared list of links.
    </p>
    <section class="panel" aria-labelledby="mine-title">
      <h2 id="mine-title">Your circles</h2>
      <${ListState} state=${mine} reload=${mine.reload} what="your circles"
        isEmpty=${(/** @type {Schemas['CircleSummary'][]} */ d) => d.length === 0}
        empty="You are not in a circle yet. Find one below, start one, or ask to be placed in one.">
        ${(/** @type {Schemas['CircleSummary'][]} */ list) => html`<ul class="cards">
          ${list.map((c) => html`<li key=${c.id}><${CircleCard} circle=${c} /></li>`)}
        </ul>`}
      </${ListState}>
    </section>
    <${Interest} />
    <${FindCircle} />
    <${StartCircle} />
  </section>`;
}

function Interest() {
  const state = useLoad(() => call('get', '/api/v1/me/circle-interest'), []);
  const [status, setStatus] = useState('');
  const [seeking, setSeeking] = useState(/** @type {boolean | null} */ (null));
  /** @param {boolean} on */
  const save = async (on) => {
    setSeeking(on);
    setStatus('Saving…');
    try {
      const saved = await call('put', '/api/v1/me/circle-interest', { body: { seeking: on } });
      setSeeking(saved.seeking);
      setStatus(saved.seeking ? 'Saved. You will be placed in the next round.' : 'Saved.');
    } catch (e) {
      setSeeking(!on);
      setStatus(message(e));
    }
  };
  return html`<section class="panel" aria-labelledby="interest-title">
    <h2 id="interest-title">Be placed in a circle</h2>
    <${ListState} state=${state} reload=${state.reload} what="whether you are waiting"
      isEmpty=${() => false} empty="">
      ${(/** @type {Schemas['CircleInterest']} */ loaded) => html`<${Check}
        id="seeking-circle"
        label="Place me in a circle with people like me"
        hint="The programme forms circles now and then, placing those who work most alone first. We email you when yours is formed."
        checked=${seeking ?? loaded.seeking}
        onChange=${save} />`}
    </${ListState}>
    <p role="status">${status}</p>
  </section>`;
}

function FindCircle() {
  const vocabulary = useVocabulary();
  const blank = { q: '', profession: '', within_km: '', open_seats: true };
  const [filters, setFilters] = useState(blank);
  const [applied, setApplied] = useState(blank);
  const { state, more, cursor, moreError, loadMore } = usePages(
    (/** @type {string | undefined} */ from) =>
      call('get', '/api/v1/circles', {
        query: {
          q: applied.q || undefined,
          profession: applied.profession || undefined,
          within_km: applied.within_km ? Number(applied.within_km) : undefined,
          open_seats: applied.open_seats,
          limit: 20,
          cursor: from,
        },
      }),
    [applied],
  );
  /** @param {'profession' | 'within_km'} key @param {{code: string, label: string}[]} options @param {string} text */
  const select = (key, options, text) => html`<div class="field">
    <label for=${`circle-${key}`}>${text}</label>
    <select id=${`circle-${key}`} value=${filters[key]}
      onChange=${(/** @type {Event} */ e) =>
        setFilters({ ...filters, [key]: /** @type {HTMLSelectElement} */ (e.currentTarget).value })}>
      ${options.map((o) => html`<option key=${o.code} value=${o.code}>${o.label}</option>`)}
    </select>
  </div>`;
  const professions = [
    { code: '', label: 'Any' },
    ...(vocabulary?.professions ?? []),
    { code: 'interprofessional', label: 'Interprofessional' },
  ];
  const distances = [
    { code: '', label: 'Any distance' },
    ...[25, 50, 100, 250, 500].map((km) => ({ code: String(km), label: `Within ${km} km` })),
  ];
  return html`<section class="panel" aria-labelledby="find-title">
    <h2 id="find-title">Find a circle</h2>
    <form class="filters" role="search" aria-labelledby="find-title"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        setApplied(filters);
      }}>
      <${Field} id="circle-words" label="Words in the circle's topic" value=${filters.q}
        onInput=${(/** @type {string} */ q) => setFilters({ ...filters, q })} />
      ${select('profession', professions, 'Profession')}
      ${select('within_km', distances, 'Distance')}
      <${Check} id="circle-seats" label="Only circles with a free seat" checked=${filters.open_seats}
        onChange=${(/** @type {boolean} */ open_seats) => setFilters({ ...filters, open_seats })} />
      <div class="actions"><button type="submit">Search circles</button></div>
    </form>
    <${ListState} state=${state} reload=${state.reload} what="circles"
      isEmpty=${(/** @type {Schemas['CirclePage']} */ d) => d.items.length === 0}
      empty="No circle matches. Try fewer filters, a longer distance, or start one.">
      ${(/** @type {Schemas['CirclePage']} */ page) => html`<ul class="cards">
        ${[...page.items, ...more].map((c) => html`<li key=${c.id}><${CircleCard} circle=${c} /></li>`)}
      </ul>
      ${cursor ? html`<button type="button" class="secondary" onClick=${loadMore}>More circles</button>` : null}
      <${FormError} error=${moreError} />`}
    </${ListState}>
  </section>`;
}

function StartCircle() {
  const [domain, setDomain] = useState('');
  const [cap, setCap] = useState('6');
  const [open, setOpen] = useState(false);
  const [facilitate, setFacilitate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<section class="panel" aria-labelledby="start-title">
    <h2 id="start-title">Start a circle</h2>
    <form onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      run(async () => {
        const made = await call('post', '/api/v1/circles', {
          body: { domain, cap: Number(cap), admission: open ? 'open' : 'approval', facilitate },
        });
        navigate(`/circles/${made.circle.id}`);
      });
    }}>
      <${Field} id="domain" label="What the circle is about" value=${domain} onInput=${setDomain}
        hint="In plain words, for example “Home modifications for older adults, rural”."
        errors=${errors.domain} required />
      <div class=${errors.cap ? 'field invalid' : 'field'}>
        <label for="cap">Most members</label>
        <select id="cap" value=${cap}
          onChange=${(/** @type {Event} */ e) => setCap(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
          ${['4', '5', '6', '7', '8'].map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
        </select>
      </div>
      <${Check} id="open-admission" label="Anyone may join while a seat is free"
        hint="Otherwise each request to join waits for the facilitator, or for any member when there is none."
        checked=${open} onChange=${setOpen} />
      <${Check} id="facilitate" label="I will facilitate it"
        hint="For practitioners with five or more years of experience, or who offer mentoring."
        checked=${facilitate} onChange=${setFacilitate} />
      ${errors.facilitate ? html`<p class="field-error" id="facilitate-error">${errors.facilitate.join(' ')}</p>` : null}
      <div class="actions"><button type="submit" disabled=${busy}>Start the circle</button></div>
      <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
    </form>
  </section>`;
}

/** @param {PageProps} props */
export function CirclePage({ me, params }) {
  const id = params.id;
  const state = useLoad(() => call('get', '/api/v1/circles/{id}', { params: { id } }), [id]);
  if (!me) return null;
  const view = /** @type {Schemas['CircleView'] | null} */ (state.data);
  if (!view) {
    return html`<section>
      <${Title}>Circle</${Title}>
      <${ListState} state=${state} reload=${state.reload} what="the circle" isEmpty=${() => false} empty="">
        ${() => null}
      </${ListState}>
    </section>`;
  }
  const c = view.circle;
  const member = c.my_place === 'member' || c.my_place === 'facilitator';
  return html`<section>
    <${Title}>${c.domain}</${Title}>
    <p class="meta">
      ${STATE[c.state] ?? c.state} · ${c.members} of ${c.cap} members · working hours around ${c.utc_offset}
      ${c.my_place ? ` · ${PLACE[c.my_place]}` : ''}
    </p>
    ${c.state === 'closed' ? html`<p class="notice">This circle is closed: ${c.closed_reason}</p>` : null}
    ${member
      ? html`
          <${Members} view=${view} me=${me} reload=${state.reload} />
          <${Discussion} circle=${c} me=${me} />
          <${Meetings} circle=${c} me=${me} />
          <${Resources} circle=${c} />
          <${Leave} view=${view} me=${me} reload=${state.reload} />`
      : html`<${Join} circle=${c} me=${me} reload=${state.reload} />`}
  </section>`;
}

/** @param {{ circle: Schemas['CircleSummary'], me: Schemas['Me'], reload: () => void }} props */
function Join({ circle: c, me, reload }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const params = { id: c.id };
  if (c.my_place === 'pending') {
    return html`<section class="panel" aria-labelledby="join-title">
      <h2 id="join-title">Your request</h2>
      <p>Your request to join is waiting for an answer. We will email you.</p>
      <button type="button" class="secondary" disabled=${busy}
        onClick=${() => run(() => call('delete', '/api/v1/circles/{id}/members/{user_id}', { params: { ...params, user_id: me.user_id } }), reload)}>
        Withdraw my request
      </button>
      <${FormError} error=${error} />
    </section>`;
  }
  if (c.state === 'closed') return null;
  return html`<section class="panel" aria-labelledby="join-title">
    <h2 id="join-title">Join this circle</h2>
    <p class="hint">
      Members' names and everything said in the circle are seen by its members only.
      ${c.admission === 'open' ? ' A free seat is yours at once.' : ' Your request waits for an answer.'}
    </p>
    <form onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      run(() => call('post', '/api/v1/circles/{id}/join', { params, body: { note: note || null } }), reload);
    }}>
      <${Field} id="join-note" label="A note to the members (optional)" multiline value=${note} onInput=${setNote}
        errors=${fieldErrors(error).note} />
      <div class="actions"><button type="submit" disabled=${busy}>${c.admission === 'open' ? 'Join' : 'Ask to join'}</button></div>
      <${FormError} error=${error} />
    </form>
  </section>`;
}

/** @param {{ view: Schemas['CircleView'], me: Schemas['Me'], reload: () => void }} props */
function Members({ view, me, reload }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const c = view.circle;
  const answers = c.my_place === 'facilitator' || (c.my_place === 'member' && !c.has_facilitator);
  const params = { id: c.id };
  return html`<section class="panel" aria-labelledby="members-title">
    <h2 id="members-title">Members</h2>
    <ul class="plain">
      ${view.members.map(
        (m) => html`<li key=${m.profile.user_id}>
          <a href=${`/people/${m.profile.user_id}`}>${m.profile.display_name}</a>
          ${m.role === 'facilitator' ? html` <span class="tag">Facilitator</span>` : null}
          ${m.profile.user_id === me.user_id ? ' (you)' : ''}
          <span class="meta">${' · '}${m.profile.place.name}</span>
          ${c.my_place === 'facilitator' && m.profile.user_id !== me.user_id
            ? html` <button type="button" class="link" disabled=${busy}
                onClick=${() =>
                  confirm(`Remove ${m.profile.display_name} from the circle?`) &&
                  run(() => call('delete', '/api/v1/circles/{id}/members/{user_id}', { params: { ...params, user_id: m.profile.user_id } }), reload)}>
                Remove ${m.profile.display_name}
              </button>`
            : null}
        </li>`,
      )}
    </ul>
    ${view.pending.length
      ? html`<h3>Asking to join</h3>
          <ul class="plain">
            ${view.pending.map(
              (m) => html`<li key=${m.profile.user_id}>
                <a href=${`/people/${m.profile.user_id}`}>${m.profile.display_name}</a>
                ${m.note ? html`<blockquote>${m.note}</blockquote>` : null}
                ${answers
                  ? html`<div class="actions">
                      <button type="button" disabled=${busy}
                        onClick=${() => run(() => call('post', '/api/v1/circles/{id}/members/{user_id}/accept', { params: { ...params, user_id: m.profile.user_id } }), reload)}>
                        Accept ${m.profile.display_name}
                      </button>
                      <button type="button" class="secondary" disabled=${busy}
                        onClick=${() => run(() => call('delete', '/api/v1/circles/{id}/members/{user_id}', { params: { ...params, user_id: m.profile.user_id } }), reload)}>
                        Turn down
                      </button>
                    </div>`
                  : null}
              </li>`,
            )}
          </ul>`
      : null}
    <${FormError} error=${error} />
  </section>`;
}

/** @param {{ view: Schemas['CircleView'], me: Schemas['Me'], reload: () => void }} props */
function Leave({ view, me, reload }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const c = view.circle;
  const params = { id: c.id };
  return html`<section class="panel danger-zone" aria-labelledby="leave-title">
    <h2 id="leave-title">Leaving</h2>
    <button type="button" class="secondary" disabled=${busy}
      onClick=${() =>
        confirm('Leave this circle?') &&
        run(() => call('delete', '/api/v1/circles/{id}/members/{user_id}', { params: { ...params, user_id: me.user_id } }), () => navigate('/circles'))}>
      Leave the circle
    </button>
    ${c.my_place === 'facilitator' && c.state !== 'closed'
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(() => call('post', '/api/v1/circles/{id}/close', { params, body: { reason } }), reload);
        }}>
          <${Field} id="close-reason" label="Why close the circle" value=${reason} onInput=${setReason}
            errors=${fieldErrors(error).reason} />
          <div class="actions"><button type="submit" class="danger" disabled=${busy}>Close the circle</button></div>
        </form>`
      : null}
    <${FormError} error=${error} />
  </section>`;
}

/** @param {{ circle: Schemas['CircleSummary'], me: Schemas['Me'] }} props */
function Discussion({ circle: c, me }) {
  const state = useLoad(() => call('get', '/api/v1/circles/{id}/posts', { params: { id: c.id }, query: { limit: 20 } }), [c.id]);
  const [older, setOlder] = useState(/** @type {Schemas['PostView'][]} */ ([]));
  const [cursor, setCursor] = useState(/** @type {string | null | undefined} */ (undefined));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const first = /** @type {Schemas['PostPage'] | null} */ (state.data);
  const next = cursor === undefined ? first?.next_cursor ?? null : cursor;
  const reload = () => {
    setOlder([]);
    setCursor(undefined);
    state.reload();
  };
  const more = async () => {
    setError(null);
    try {
      const page = await call('get', '/api/v1/circles/{id}/posts', { params: { id: c.id }, query: { limit: 20, cursor: next ?? undefined } });
      setOlder([...older, ...page.items]);
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(e);
    }
  };
  return html`<section class="panel" aria-labelledby="discussion-title">
    <h2 id="discussion-title">Discussion</h2>
    ${c.state !== 'closed' ? html`<${NewPost} circle=${c} onPosted=${reload} />` : null}
    <${ListState} state=${state} reload=${reload} what="the discussion"
      isEmpty=${(/** @type {Schemas['PostPage']} */ d) => d.items.length === 0}
      empty="Nothing posted yet. Start with a hello, a question or a case.">
      ${(/** @type {Schemas['PostPage']} */ page) => html`<ul class="cards">
        ${[...page.items, ...older].map((p) => html`<li key=${p.id}><${Thread} circle=${c} post=${p} me=${me} onChange=${reload} /></li>`)}
      </ul>`}
    </${ListState}>
    ${next ? html`<button type="button" class="secondary" onClick=${more}>Show older threads</button>` : null}
    <${FormError} error=${error} />
  </section>`;
}

/** @param {{ circle: Schemas['CircleSummary'], onPosted: () => void }} props */
function NewPost({ circle: c, onPosted }) {
  const [kind, setKind] = useState(/** @type {'discussion' | 'case'} */ ('discussion'));
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [questions, setQuestions] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<form class="panel" aria-labelledby="new-post-title" onSubmit=${(/** @type {Event} */ e) => {
    e.preventDefault();
    run(
      () =>
        call('post', '/api/v1/circles/{id}/posts', {
          params: { id: c.id },
          body: {
            kind,
            title: title || null,
            body,
            questions: kind === 'case' ? questions.split('\n').map((q) => q.trim()).filter(Boolean) : [],
          },
        }),
      () => {
        setTitle('');
        setBody('');
        setQuestions('');
        onPosted();
      },
    );
  }}>
    <h3 id="new-post-title">Write to the circle</h3>
    <${Check} id="post-case" label="This is a case study, with questions for the others"
      checked=${kind === 'case'} onChange=${(/** @type {boolean} */ on) => setKind(on ? 'case' : 'discussion')} />
    <p class="notice" id="no-client-details">
      Never include anything that could identify a client: no names, addresses, dates of birth
      or rare details.
    </p>
    <${Field} id="post-title" label=${kind === 'case' ? 'Title' : 'Title (optional)'} value=${title} onInput=${setTitle}
      errors=${errors.title} />
    <${Field} id="post-body" label=${kind === 'case' ? 'The case' : 'Your message'} multiline value=${body} onInput=${setBody}
      errors=${errors.body} hint="Plain text; links become links." />
    ${kind === 'case'
      ? html`<${Field} id="post-questions" label="Guiding questions, one per line" multiline value=${questions}
          onInput=${setQuestions} errors=${errors.questions} />`
      : null}
    <div class="actions"><button type="submit" disabled=${busy}>Post</button></div>
    <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
  </form>`;
}

/**
 * A thread: the post, what its author and the facilitator can do with it, and its replies.
 * @param {{ circle: Schemas['CircleSummary'], post: Schemas['PostView'], me: Schemas['Me'],
 *   onChange: () => void }} props
 */
function Thread({ circle: c, post: p, me, onChange }) {
  const [open, setOpen] = useState(false);
  const replies = useLoad(
    () => (open ? call('get', '/api/v1/circles/{id}/posts/{post_id}', { params: { id: c.id, post_id: p.id } }) : Promise.resolve(null)),
    [open, p.replies],
  );
  const heading = `post-${p.id}`;
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}>${p.removed ? 'Deleted post' : p.title ?? `${p.author?.display_name ?? 'Someone'} wrote`}</h3>
    <${PostBody} circle=${c} post=${p} me=${me} onChange=${onChange} />
    <button type="button" class="link" aria-expanded=${open ? 'true' : 'false'} onClick=${() => setOpen(!open)}>
      ${open ? 'Hide replies' : p.replies === 1 ? 'Show 1 reply' : `Show ${p.replies} replies`}
    </button>
    ${open && replies.data
      ? html`<ul class="plain replies">
          ${/** @type {Schemas['ThreadView']} */ (replies.data).replies.map(
            (r) => html`<li key=${r.id}><${PostBody} circle=${c} post=${r} me=${me} onChange=${replies.reload} /></li>`,
          )}
        </ul>
        ${c.state !== 'closed' && !p.removed ? html`<${Reply} circle=${c} post=${p} onReplied=${onChange} />` : null}`
      : null}
  </article>`;
}

/**
 * @param {{ circle: Schemas['CircleSummary'], post: Schemas['PostView'], me: Schemas['Me'],
 *   onChange: () => void }} props
 */
function PostBody({ circle: c, post: p, me, onChange }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(p.body);
  const [reporting, setReporting] = useState(false);
  const [reason, setReason] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  const params = { id: c.id, post_id: p.id };
  const mine = p.author?.user_id === me.user_id;
  const moderates = c.my_place === 'facilitator';
  const open = c.state !== 'closed';
  if (p.removed) return html`<p class="meta">This post was deleted.</p>`;
  return html`<div class="post">
    <p class="meta">
      ${p.author?.display_name ?? 'A former member'} · ${day(p.created_at)}${p.edited_at ? ' · edited' : ''}
      ${p.pinned ? html` · <span class="tag">Pinned</span>` : null}
      ${p.hidden ? html` · <span class="tag">Hidden from members</span>` : null}
      ${p.reports ? ` · reported ${p.reports} ${p.reports === 1 ? 'time' : 'times'}` : ''}
    </p>
    ${editing
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(() => call('patch', '/api/v1/circles/{id}/posts/{post_id}', { params, body: { body: text } }), () => {
            setEditing(false);
            onChange();
          });
        }}>
          <${Field} id=${`edit-${p.id}`} label="Your text" multiline value=${text} onInput=${setText}
            errors=${fieldErrors(error).body} />
          <div class="actions">
            <button type="submit" disabled=${busy}>Save</button>
            <button type="button" class="secondary" onClick=${() => setEditing(false)}>Cancel</button>
          </div>
        </form>`
      : html`<p class="post-text"><${Linked} text=${p.body} /></p>`}
    ${p.questions.length
      ? html`<p>Questions for the circle:</p>
          <ol>${p.questions.map((q, i) => html`<li key=${i}>${q}</li>`)}</ol>`
      : null}
    ${open
      ? html`<div class="actions">
          ${mine && !editing
            ? html`<button type="button" class="link" onClick=${() => setEditing(true)}>Edit</button>
                <button type="button" class="link" disabled=${busy}
                  onClick=${() => confirm('Delete this post? Replies to it stay.') &&
                    run(() => call('delete', '/api/v1/circles/{id}/posts/{post_id}', { params }), onChange)}>
                  Delete
                </button>`
            : null}
          ${moderates && !p.parent_id
            ? html`<button type="button" class="link" disabled=${busy}
                onClick=${() => run(() => call('post', '/api/v1/circles/{id}/posts/{post_id}/pin', { params, body: { pinned: !p.pinned } }), onChange)}>
                ${p.pinned ? 'Unpin' : 'Pin'}
              </button>`
            : null}
          ${moderates
            ? html`<button type="button" class="link" disabled=${busy}
                onClick=${() => run(() => call('post', '/api/v1/circles/{id}/posts/{post_id}/hide', { params, body: { hidden: !p.hidden } }), onChange)}>
                ${p.hidden ? 'Show to members' : 'Hide'}
              </button>`
            : null}
          ${!mine && !reporting
            ? html`<button type="button" class="link" onClick=${() => setReporting(true)}>Report</button>`
            : null}
        </div>`
      : null}
    ${reporting
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(() => call('post', '/api/v1/circles/{id}/posts/{post_id}/report', { params, body: { reason } }), () => {
            setReporting(false);
            setStatus('Reported to the facilitator and the programme. Thank you.');
          });
        }}>
          <${Field} id=${`report-${p.id}`} label="What is wrong with it" value=${reason} onInput=${setReason}
            errors=${fieldErrors(error).reason} />
          <div class="actions">
            <button type="submit" disabled=${busy}>Send report</button>
            <button type="button" class="secondary" onClick=${() => setReporting(false)}>Cancel</button>
          </div>
        </form>`
      : null}
    <p role="status">${status}</p>
    <${FormError} error=${error && !Object.keys(fieldErrors(error)).length ? error : null} />
  </div>`;
}

/** @param {{ circle: Schemas['CircleSummary'], post: Schemas['PostView'], onReplied: () => void }} props */
function Reply({ circle: c, post: p, onReplied }) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const run = runner(setBusy, setError);
  return html`<form onSubmit=${(/** @type {Event} */ e) => {
    e.preventDefault();
    run(() => call('post', '/api/v1/circles/{id}/posts/{post_id}/replies', { params: { id: c.id, post_id: p.id }, body: { body } }), () => {
      setBody('');
      onReplied();
    });
  }}>
    <${Field} id=${`reply-${p.id}`} label="Your reply" multiline value=${body} onInput=${setBody}
      errors=${fieldErrors(error).body} />
    <div class="actions"><button type="submit" disabled=${busy}>Reply</button></div>
  </form>`;
}

const REPEATS = [
  { value: '', label: 'Just once' },
  { value: '1', label: 'Every week, 6 times' },
  { value: '2', label: 'Every two weeks, 6 times' },
  { value: '4', label: 'Every four weeks, 6 times' },
];

/** @param {{ circle: Schemas['CircleSummary'], me: Schemas['Me'] }} props */
function Meetings({ circle: c, me }) {
  const state = useLoad(() => call('get', '/api/v1/circles/{id}/meetings', { params: { id: c.id } }), [c.id]);
  const [title, setTitle] = useState('');
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [place, setPlace] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [status, setStatus] = useState('');
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  const zone = me.profile?.timezone ?? 'UTC';
  return html`<section class="panel" aria-labelledby="meetings-title">
    <h2 id="meetings-title">Meetings</h2>
    <${ListState} state=${state} reload=${state.reload} what="the meetings"
      isEmpty=${(/** @type {Schemas['MeetingView'][]} */ d) => d.length === 0}
      empty="No meeting is planned.">
      ${(/** @type {Schemas['MeetingView'][]} */ list) => html`<ul class="cards">
        ${list.map((m) => html`<li key=${m.id}><${MeetingCard} circle=${c} meeting=${m} me=${me} onChange=${state.reload} /></li>`)}
      </ul>`}
    </${ListState}>
    ${c.state !== 'closed'
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(
            () =>
              call('post', '/api/v1/circles/{id}/meetings', {
                params: { id: c.id },
                body: {
                  title,
                  starts_at: `${date}T${time}`,
                  duration_minutes: Number(minutes),
                  location: place || null,
                  repeat: repeat ? { every_weeks: Number(repeat), count: 6 } : null,
                },
              }),
            () => {
              setStatus('Scheduled. Everyone is emailed an invitation for their calendar.');
              setTitle('');
              state.reload();
            },
          );
        }}>
          <h3>Plan a meeting</h3>
          <${Field} id="meeting-title" label="What it is" value=${title} onInput=${setTitle} errors=${errors.title} />
          <${Field} id="meeting-date" label="Date" type="date" value=${date} onInput=${setDate} errors=${errors.starts_at} />
          <${Field} id="meeting-time" label=${`Start time in your time zone (${zone}), 24-hour, like 18:00`} value=${time}
            onInput=${setTime} inputmode="numeric" />
          <div class="field">
            <label for="meeting-minutes">How long</label>
            <select id="meeting-minutes" value=${minutes}
              onChange=${(/** @type {Event} */ e) => setMinutes(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
              ${['30', '45', '60', '90'].map((n) => html`<option key=${n} value=${n}>${n} minutes</option>`)}
            </select>
          </div>
          <${Field} id="meeting-place" label="Where, or the video link (optional)" value=${place} onInput=${setPlace}
            errors=${errors.location} />
          <div class="field">
            <label for="meeting-repeat">Repeat</label>
            <select id="meeting-repeat" value=${repeat}
              onChange=${(/** @type {Event} */ e) => setRepeat(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
              ${REPEATS.map((r) => html`<option key=${r.value} value=${r.value}>${r.label}</option>`)}
            </select>
          </div>
          <div class="actions"><button type="submit" disabled=${busy}>Schedule</button></div>
          <p role="status">${status}</p>
          <${FormError} error=${error && !Object.keys(errors).length ? error : null} />
        </form>`
      : null}
  </section>`;
}

/**
 * @param {{ circle: Schemas['CircleSummary'], meeting: Schemas['MeetingView'], me: Schemas['Me'],
 *   onChange: () => void }} props
 */
function MeetingCard({ circle: c, meeting: m, me, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [moving, setMoving] = useState(false);
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const run = runner(setBusy, setError);
  const params = { id: c.id, meeting_id: m.id };
  const mine = m.organiser?.user_id === me.user_id || c.my_place === 'facilitator';
  const when = new Date(`${m.local_start}:00`).toLocaleString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
  });
  const heading = `meeting-${m.id}`;
  const started = new Date(m.starts_at).getTime() <= Date.now();
  const link = m.location && /^https?:\/\//.test(m.location);
  /** @param {boolean} attending */
  const answer = (attending) =>
    run(() => call('put', '/api/v1/circles/{id}/meetings/{meeting_id}/rsvp', { params, body: { attending } }), onChange);
  return html`<article class="card" aria-labelledby=${heading}>
    <h3 id=${heading}>${m.title}</h3>
    <p class="meta">${when} (${m.local_timezone}) · ${m.duration_minutes} minutes</p>
    ${m.location ? html`<p>${link ? html`<a href=${m.location} rel="noopener noreferrer">${m.location}</a>` : m.location}</p>` : null}
    <p class="meta">
      ${m.coming.length ? `Coming: ${m.coming.map((a) => a.display_name).join(', ')}` : 'Nobody has said yet.'}
      ${m.not_coming ? ` · ${m.not_coming} cannot come` : ''}
    </p>
    <p role="status">${m.held_at
      ? html`It took place: whoever came has a draft in their <a href="/log">development log</a> to confirm.`
      : m.my_answer === true ? 'You are coming.' : m.my_answer === false ? 'You cannot come.' : ''}</p>
    <div class="actions">
      <button type="button" disabled=${busy || m.my_answer === true} onClick=${() => answer(true)}>I will come</button>
      <button type="button" class="secondary" disabled=${busy || m.my_answer === false} onClick=${() => answer(false)}>I cannot come</button>
      ${started && !m.held_at
        ? html`<button type="button" class="secondary" disabled=${busy}
            onClick=${() => run(() => call('post', '/api/v1/circles/{id}/meetings/{meeting_id}/held', { params }), onChange)}>
            It took place
          </button>`
        : null}
      ${mine && !started && !m.series_id && !moving
        ? html`<button type="button" class="link" onClick=${() => setMoving(true)}>Change the time</button>`
        : null}
      ${mine
        ? html`<button type="button" class="link" disabled=${busy}
            onClick=${() => confirm('Cancel this meeting for everyone?') &&
              run(() => call('delete', '/api/v1/circles/{id}/meetings/{meeting_id}', { params }), onChange)}>
            Cancel the meeting
          </button>`
        : null}
    </div>
    ${moving
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(() => call('patch', '/api/v1/circles/{id}/meetings/{meeting_id}', { params, body: { starts_at: `${date}T${time}` } }), () => {
            setMoving(false);
            onChange();
          });
        }}>
          <${Field} id=${`move-date-${m.id}`} label="New date" type="date" value=${date} onInput=${setDate}
            errors=${fieldErrors(error).starts_at} />
          <${Field} id=${`move-time-${m.id}`} label=${`New start time (${m.timezone}), 24-hour`} value=${time}
            onInput=${setTime} inputmode="numeric" />
          <div class="actions">
            <button type="submit" disabled=${busy}>Save the change</button>
            <button type="button" class="secondary" onClick=${() => setMoving(false)}>Keep the time</button>
          </div>
        </form>`
      : null}
    <${FormError} error=${error} />
  </article>`;
}

/** @param {{ circle: Schemas['CircleSummary'] }} props */
function Resources({ circle: c }) {
  const state = useLoad(() => call('get', '/api/v1/circles/{id}/resources', { params: { id: c.id } }), [c.id]);
  const [title, setTitle] = useState('');
  const [url, setUrl] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const errors = fieldErrors(error);
  const run = runner(setBusy, setError);
  return html`<section class="panel" aria-labelledby="resources-title">
    <h2 id="resources-title">Shared links</h2>
    <${ListState} state=${state} reload=${state.reload} what="the links"
      isEmpty=${(/** @type {Schemas['ResourceView'][]} */ d) => d.length === 0}
      empty="No links shared yet.">
      ${(/** @type {Schemas['ResourceView'][]} */ list) => html`<ul class="plain">
        ${list.map(
          (r) => html`<li key=${r.id}>
            <a href=${r.url} rel="noopener noreferrer nofollow">${r.title}</a>
            ${r.note ? html` — ${r.note}` : null}
            <span class="meta">${r.added_by ? ` · ${r.added_by.display_name}` : ''}</span>
          </li>`,
        )}
      </ul>`}
    </${ListState}>
    ${c.state !== 'closed'
      ? html`<form onSubmit=${(/** @type {Event} */ e) => {
          e.preventDefault();
          run(() => call('post', '/api/v1/circles/{id}/resources', { params: { id: c.id }, body: { title, url, note: note || null } }), () => {
            setTitle('');
            setUrl('');
            setNote('');
            state.reload();
          });
        }}>
          <h3>Share a link</h3>
          <${Field} id="resource-title" label="Link title" value=${title} onInput=${setTitle} errors=${errors.title} />
          <${Field} id="resource-url" label="Link" type="url" value=${url} onInput=${setUrl} errors=${errors.url} />
          <${Field} id="resource-note" label="A short note (optional)" value=${note} onInput=${setNote} errors=${errors.note} />
          <div class="actions"><button type="submit" disabled=${busy}>Share</button></div>
        </form>`
      : null}
  </section>`;
}
