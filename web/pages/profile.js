// @ts-check
// The profile, as a short wizard: about you; who you work with; where and how; what you are
// looking for. It is saved at the end; a field the server refuses is shown beside the field,
// on its step.

import { useEffect, useState } from '../vendor/hooks.js';
import { call } from '../api.js';
import {
  Check,
  Field,
  FieldErrors,
  FormError,
  Picker,
  Title,
  fieldErrors,
  html,
  languageName,
  placeName,
  useVocabulary,
} from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */
/** @typedef {import('../client').Schemas} Schemas */

const STEPS = ['About you', 'Who you work with', 'Where and how', 'What you are looking for'];
/** Which step shows the field an error names (by the name's first part). */
const STEP_OF = /** @type {Record<string, number>} */ ({
  display_name: 0,
  profession: 0,
  years_experience: 0,
  works_alone: 0,
  bio: 0,
  populations: 1,
  settings: 1,
  location: 2,
  timezone: 2,
  languages: 2,
  meeting_modes: 2,
  max_travel_km: 2,
  seeking: 3,
  mentoring: 3,
  interests: 3,
});

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}

/** @param {Schemas['Me']} me */
function initial(me) {
  const p = me.profile;
  return {
    display_name: p?.display_name ?? me.display_name,
    profession: p ? [p.profession] : [],
    years_experience: String(p?.years_experience ?? ''),
    works_alone: p?.works_alone ?? true,
    bio: p?.bio ?? '',
    populations: p?.populations ?? [],
    settings: p?.settings ?? [],
    latitude: p ? String(p.location.latitude) : '',
    longitude: p ? String(p.location.longitude) : '',
    timezone: p?.timezone ?? browserTimeZone(),
    languages: p?.languages ?? ['en'],
    meeting_modes: p?.meeting_modes ?? ['virtual'],
    max_travel_km: p?.max_travel_km == null ? '' : String(p.max_travel_km),
    seeking_peers: p?.seeking.peers ?? true,
    seeking_mentor: p?.seeking.mentor ?? false,
    offering: p?.mentoring.offering ?? false,
    capacity: String(p?.mentoring.capacity ?? 0),
    paused_until: p?.mentoring.paused_until ?? null,
    interests: (p?.interests ?? []).join(', '),
  };
}

/** @typedef {ReturnType<typeof initial>} Form */

/** @param {string} text */
const number = (text) => (text.trim() === '' ? NaN : Number(text));

/**
 * The body of PUT /api/v1/me/profile from the form.
 * @param {Form} f
 * @returns {Schemas['ProfileInput']}
 */
function body(f) {
  return {
    display_name: f.display_name,
    profession: /** @type {Schemas['ProfileInput']['profession']} */ (f.profession[0] ?? ''),
    populations: /** @type {Schemas['ProfileInput']['populations']} */ (f.populations),
    settings: /** @type {Schemas['ProfileInput']['settings']} */ (f.settings),
    location: { latitude: number(f.latitude), longitude: number(f.longitude) },
    years_experience: number(f.years_experience),
    languages: /** @type {Schemas['ProfileInput']['languages']} */ (f.languages),
    interests: f.interests
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    bio: f.bio || null,
    timezone: /** @type {Schemas['ProfileInput']['timezone']} */ (f.timezone),
    meeting_modes: /** @type {Schemas['ProfileInput']['meeting_modes']} */ (f.meeting_modes),
    max_travel_km: f.max_travel_km.trim() === '' ? null : number(f.max_travel_km),
    works_alone: f.works_alone,
    seeking: { peers: f.seeking_peers, mentor: f.seeking_mentor },
    mentoring: {
      offering: f.offering,
      capacity: f.offering ? number(f.capacity) : 0,
      paused_until: f.paused_until,
    },
  };
}

/**
 * Errors keyed by field; a form-level error names fields that are not on any step.
 * @param {Record<string, string[]>} errors
 * @param {string} name
 */
function errorsFor(errors, name) {
  return Object.entries(errors)
    .filter(([key]) => key === name || key.startsWith(`${name}.`) || key.startsWith(`${name}[`))
    .flatMap(([, list]) => list);
}

/** The country of the browser's language (en-AU → AU), whose towns come first. */
function browserCountry() {
  const match = /-([A-Z]{2})\b/.exec(navigator.language || '');
  return match ? match[1] : undefined;
}

/**
 * Picks a location by typing a town's name: the town's own position is used, so nothing
 * about the person's exact place leaves the device.
 * @param {{ onPick: (town: Schemas['Town']) => void }} props
 */
function TownSearch({ onPick }) {
  const [typed, setTyped] = useState('');
  const [towns, setTowns] = useState(/** @type {Schemas['Town'][] | null} */ (null));
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const q = typed.trim();
    if (q.length < 2) {
      setTowns(null);
      return undefined;
    }
    let current = true;
    const timer = setTimeout(() => {
      call('get', '/api/v1/places', { query: { q, country: browserCountry(), limit: 8 } })
        .then((list) => {
          if (current) {
            setTowns(list.items);
            setFailed(false);
          }
        })
        .catch(() => current && setFailed(true));
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [typed]);
  return html`<div class="town-search">
    <${Field} id="town" label="Your town" type="search" value=${typed} onInput=${setTyped}
      autocomplete="off" hint="Type the first letters of the town where you work." />
    <div role="status" class="hint">
      ${failed
        ? 'Towns cannot be searched just now. Try again, or use your location.'
        : towns && !towns.length
          ? 'No town starts with that. Check the spelling, or try a nearby larger town.'
          : towns
            ? `${towns.length} ${towns.length === 1 ? 'town' : 'towns'} found.`
            : ''}
    </div>
    ${towns?.length
      ? html`<ul class="towns" aria-label="Towns">
          ${towns.map(
            (town) => html`<li key=${`${town.name}|${town.region}|${town.latitude}`}>
              <button type="button" class="secondary"
                onClick=${() => {
                  onPick(town);
                  setTowns(null);
                  setTyped('');
                }}>
                ${placeName({ name: town.name, region: town.region, country_code: town.country_code })}
              </button>
            </li>`,
          )}
        </ul>`
      : null}
  </div>`;
}

/** @param {PageProps} props */
export function ProfileWizard({ me, reloadMe, query }) {
  const vocabulary = useVocabulary();
  const [form, setForm] = useState(() => initial(/** @type {Schemas['Me']} */ (me)));
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [saved, setSaved] = useState(/** @type {Schemas['Profile'] | null} */ (null));
  const [locating, setLocating] = useState('');
  const errors = fieldErrors(error);
  /** @param {keyof Form} key @returns {(value: any) => void} */
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  /** @param {string} name */
  const err = (name) => errorsFor(errors, name);

  if (!me) return null;
  if (!vocabulary) return html`<p class="state" role="status">Loading…</p>`;

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setLocating('Your browser cannot share a location. Enter coordinates below instead.');
      return;
    }
    setLocating('Finding your position…');
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setForm((f) => ({
          ...f,
          latitude: position.coords.latitude.toFixed(4),
          longitude: position.coords.longitude.toFixed(4),
        }));
        setLocating('Position found. Others will see only your nearest town once you save.');
      },
      () => setLocating('Your browser did not share your position. Enter coordinates below instead.'),
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  };

  /** @param {Event} event */
  const save = async (event) => {
    event.preventDefault();
    if (step < STEPS.length - 1) {
      setStep(step + 1);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const profile = await call('put', '/api/v1/me/profile', { body: body(form) });
      setSaved(profile);
      await reloadMe();
    } catch (e) {
      setError(e);
      const steps = Object.keys(fieldErrors(e)).map((k) => STEP_OF[k.split(/[.[]/)[0]] ?? 0);
      if (steps.length) setStep(Math.min(...steps));
    } finally {
      setBusy(false);
    }
  };

  if (saved) {
    return html`<section>
      <${Title}>Your profile is saved</${Title}>
      <p>Others see you near <strong>${placeName(saved.place)}</strong>, never your exact position.</p>
      <p class="actions">
        <a class="button" href="/suggestions">See your suggestions</a>
        <button type="button" class="secondary" onClick=${() => setSaved(null)}>Edit again</button>
      </p>
    </section>`;
  }

  // Named languages in alphabetical order, each name once (with its code where two share
  // one); codes the browser cannot name come last.
  const named = vocabulary.languages.map((code) => ({ code, label: languageName(code) }));
  const seen = new Map();
  for (const l of named) seen.set(l.label, (seen.get(l.label) ?? 0) + 1);
  const languages = named
    .map((l) => (seen.get(l.label) > 1 ? { ...l, label: `${l.label} (${l.code})` } : l))
    .sort(
      (a, b) =>
        Number(a.label === a.code) - Number(b.label === b.code) || a.label.localeCompare(b.label),
    );
  const zones = Intl.supportedValuesOf('timeZone');
  const otherErrors = Object.keys(errors).length
    ? 'Some answers need a change. They are marked below.'
    : null;

  return html`<section>
    <${Title}>${me.profile ? 'Your profile' : 'Tell us about your practice'}</${Title}>
    ${query.get('verified') ? html`<p class="notice" role="status">Your email is confirmed.</p>` : null}
    ${query.get('welcome')
      ? html`<p class="notice" role="status">
          Welcome! We have emailed you a link to confirm your address. Meanwhile, describe your
          practice so that we can find your people.
        </p>`
      : null}
    <ol class="steps" aria-label="Steps">
      ${STEPS.map(
        (name, i) => html`<li key=${name} aria-current=${i === step ? 'step' : undefined}>
          <button type="button" class="link" onClick=${() => setStep(i)}>${i + 1}. ${name}</button>
        </li>`,
      )}
    </ol>
    <form onSubmit=${save} noValidate aria-labelledby="step-title">
      <h2 id="step-title">Step ${step + 1} of ${STEPS.length}: ${STEPS[step]}</h2>
      ${step === 0
        ? html`
            <${Field} id="display_name" label="Your name" value=${form.display_name}
              onInput=${set('display_name')} autocomplete="name" errors=${err('display_name')} />
            <${Picker} id="profession" legend="Profession" single
              options=${vocabulary.professions} selected=${form.profession}
              onChange=${set('profession')} errors=${err('profession')} />
            <${Field} id="years_experience" label="Years in practice" type="number"
              inputmode="numeric" min=${0} max=${60} value=${form.years_experience}
              onInput=${set('years_experience')} errors=${err('years_experience')} />
            <${Check} id="works_alone" label="I am the only one of my profession where I work"
              checked=${form.works_alone} onChange=${set('works_alone')} />
            <${Field} id="bio" label="About your practice (optional)" multiline
              value=${form.bio} onInput=${set('bio')} errors=${err('bio')}
              hint="A few sentences others see on your profile. Up to 1,000 characters." />`
        : null}
      ${step === 1
        ? html`
            <${Picker} id="populations" legend="People you work with"
              hint="Choose up to 10." options=${vocabulary.populations}
              selected=${form.populations} onChange=${set('populations')}
              errors=${err('populations')} />
            <${Picker} id="settings" legend="Where you see them"
              hint="Choose up to 10." options=${vocabulary.settings}
              selected=${form.settings} onChange=${set('settings')} errors=${err('settings')} />`
        : null}
      ${step === 2
        ? html`
            <fieldset class=${err('location').length ? 'invalid' : ''}>
              <legend>Where you work</legend>
              <p class="hint">
                Others see only your nearest town and a distance rounded to 10 km, never your
                exact position.
              </p>
              ${me.profile ? html`<p>Now: near <strong>${placeName(me.profile.place)}</strong>.</p>` : null}
              <${TownSearch} onPick=${(/** @type {Schemas['Town']} */ town) => {
                setForm((f) => ({
                  ...f,
                  latitude: String(town.latitude),
                  longitude: String(town.longitude),
                }));
                setLocating(`Chosen: ${placeName(town)}. Save to keep it.`);
              }} />
              <p>or</p>
              <button type="button" class="secondary" onClick=${locate}>Use my location</button>
              <p role="status" class="hint" id="location-status">${locating}</p>
              <details open=${!!err('location').length}>
                <summary>Enter coordinates instead</summary>
                <${Field} id="latitude" label="Latitude (−90 to 90)" inputmode="decimal"
                  value=${form.latitude} onInput=${set('latitude')} />
                <${Field} id="longitude" label="Longitude (−180 to 180)" inputmode="decimal"
                  value=${form.longitude} onInput=${set('longitude')} />
              </details>
              <${FieldErrors} id="location" errors=${err('location')} />
            </fieldset>
            <${Field} id="timezone" label="Time zone" list="zones" value=${form.timezone}
              onInput=${set('timezone')} errors=${err('timezone')}
              hint="Found from your device. Change it if it is wrong." />
            <datalist id="zones">${zones.map((z) => html`<option key=${z} value=${z} />`)}</datalist>
            <${Picker} id="languages" legend="Languages you work in" options=${languages}
              selected=${form.languages} onChange=${set('languages')} errors=${err('languages')} />
            <${Picker} id="meeting_modes" legend="How you can meet"
              options=${vocabulary.meeting_modes} selected=${form.meeting_modes}
              onChange=${set('meeting_modes')} errors=${err('meeting_modes')} />
            ${form.meeting_modes.includes('in_person')
              ? html`<${Field} id="max_travel_km" label="How far you would travel to meet (km, optional)"
                  type="number" inputmode="numeric" min=${0} max=${1000}
                  value=${form.max_travel_km} onInput=${set('max_travel_km')}
                  errors=${err('max_travel_km')} />`
              : null}`
        : null}
      ${step === 3
        ? html`
            <fieldset class=${err('seeking').length ? 'invalid' : ''}>
              <legend>I am looking for</legend>
              <${Check} id="seeking_peers" label="Peers who share my practice"
                checked=${form.seeking_peers} onChange=${set('seeking_peers')} />
              <${Check} id="seeking_mentor" label="A mentor"
                checked=${form.seeking_mentor} onChange=${set('seeking_mentor')} />
              <${FieldErrors} id="seeking" errors=${err('seeking')} />
            </fieldset>
            <fieldset class=${err('mentoring').length ? 'invalid' : ''}>
              <legend>Mentoring others</legend>
              <${Check} id="offering" label="I offer to mentor"
                checked=${form.offering} onChange=${set('offering')} />
              ${form.offering
                ? html`<${Field} id="capacity" label="How many mentees at a time (1 to 20)"
                    type="number" inputmode="numeric" min=${0} max=${20} value=${form.capacity}
                    onInput=${set('capacity')} errors=${err('mentoring.capacity')} />`
                : null}
              <${FieldErrors} id="mentoring" errors=${err('mentoring').filter(
                (m) => !err('mentoring.capacity').includes(m),
              )} />
            </fieldset>
            <${Field} id="interests" label="Interests (optional)" value=${form.interests}
              onInput=${set('interests')} errors=${err('interests')}
              hint="Separate them with commas, for example: falls prevention, sensory processing." />`
        : null}
      <${FormError} error=${otherErrors ?? error} />
      <div class="actions">
        ${step > 0
          ? html`<button type="button" class="secondary" onClick=${() => setStep(step - 1)}>Back</button>`
          : null}
        <button type="submit" disabled=${busy}>
          ${step < STEPS.length - 1 ? 'Next' : busy ? 'Saving…' : 'Save profile'}
        </button>
      </div>
    </form>
  </section>`;
}
