// @ts-check
// Shared pieces of the pages: the view library, navigation, form fields that show their
// errors beside them, list states, and the vocabulary.

import { h } from './vendor/preact.js';
import { useCallback, useEffect, useRef, useState } from './vendor/hooks.js';
import htm from './vendor/htm.js';
import { ApiError, call } from './api.js';

export const html = htm.bind(h);

/** @typedef {import('./client').Schemas} Schemas */

/** Goes to a page of the app without reloading it. @param {string} path */
export function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/**
 * The message for an error, in plain words.
 * @param {unknown} error
 */
export function message(error) {
  if (error instanceof ApiError) {
    if (error.status === 429) return 'Too many tries for now. Please wait a little and try again.';
    if (error.status === 503) return 'Alongside is busy. Please try again in a moment.';
    return error.message;
  }
  return 'Something went wrong. Please try again.';
}

/**
 * The errors of the fields of a form, from a 422, keyed by field path ("location.latitude").
 * @param {unknown} error
 * @returns {Record<string, string[]>}
 */
export function fieldErrors(error) {
  return error instanceof ApiError ? error.fields : {};
}

/**
 * Runs `load` now and whenever `deps` change; the list states come from it.
 * @template T
 * @param {() => Promise<T>} load
 * @param {unknown[]} deps
 */
export function useLoad(load, deps) {
  const [state, setState] = useState(
    /** @type {{ loading: boolean, error: unknown, data: T | null }} */ ({
      loading: true,
      error: null,
      data: null,
    }),
  );
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ loading: false, error: null, data }),
      (error) => live && setState({ loading: false, error, data: null }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/**
 * A list read a page at a time: the first page loads whenever `deps` change, `loadMore`
 * appends the next one to `more`; `cursor` is null once there is nothing more.
 * @template T
 * @param {(cursor?: string) => Promise<{ items: T[], next_cursor?: string | null }>} fetchPage
 * @param {unknown[]} deps
 */
export function usePages(fetchPage, deps) {
  const [more, setMore] = useState(/** @type {T[]} */ ([]));
  const [cursor, setCursor] = useState(/** @type {string | null | undefined} */ (null));
  const [moreError, setMoreError] = useState(/** @type {unknown} */ (null));
  const state = useLoad(async () => {
    const page = await fetchPage();
    setMore([]);
    setCursor(page.next_cursor);
    return page;
  }, deps);
  const loadMore = async () => {
    setMoreError(null);
    try {
      const page = await fetchPage(cursor ?? undefined);
      setMore([...more, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setMoreError(e);
    }
  };
  return { state, more, cursor, moreError, loadMore };
}

/**
 * Loading, error and empty states of a list, or the list itself.
 * @param {{ state: { loading: boolean, error: unknown, data: any }, empty: string,
 *   isEmpty: (data: any) => boolean, children: (data: any) => any, what: string,
 *   reload: () => void }} props
 */
export function ListState({ state, empty, isEmpty, children, what, reload }) {
  if (state.loading && !state.data) {
    return html`<p class="state" role="status">Loading ${what}…</p>`;
  }
  if (state.error) {
    return html`<div class="state error" role="alert">
      <p>Could not load ${what}. ${message(state.error)}</p>
      <button type="button" onClick=${reload}>Try again</button>
    </div>`;
  }
  if (!state.data || isEmpty(state.data)) return html`<p class="state empty">${empty}</p>`;
  return children(state.data);
}

/**
 * The error of a whole form (not of one field), announced.
 * @param {{ error: unknown }} props
 */
export function FormError({ error }) {
  const text = typeof error === 'string' ? error : error ? message(error) : '';
  return html`<div class="form-error" role="alert">
    ${text ? html`<p>${text}</p>` : null}
  </div>`;
}

/**
 * A labelled input with its hint and its errors beside it.
 * @param {{ id: string, label: string, value: string | number, onInput: (value: string) => void,
 *   errors?: string[], hint?: string, type?: string, autocomplete?: string,
 *   required?: boolean, min?: number, max?: number, multiline?: boolean,
 *   list?: string, inputmode?: string }} props
 */
export function Field(props) {
  const { id, label, value, onInput, errors = [], hint, type = 'text', multiline } = props;
  const described = [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const common = {
    id,
    name: id,
    value,
    'aria-invalid': errors.length ? 'true' : undefined,
    'aria-describedby': described || undefined,
    required: props.required,
    /** @param {Event} e */
    onInput: (e) => onInput(/** @type {HTMLInputElement} */ (e.currentTarget).value),
  };
  return html`<div class=${errors.length ? 'field invalid' : 'field'}>
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${multiline
      ? html`<textarea ...${common} rows="4"></textarea>`
      : html`<input
          ...${common}
          type=${type}
          autocomplete=${props.autocomplete}
          min=${props.min}
          max=${props.max}
          list=${props.list}
          inputmode=${props.inputmode}
        />`}
    <${FieldErrors} id=${id} errors=${errors} />
  </div>`;
}

/** @param {{ id: string, errors?: string[] }} props */
export function FieldErrors({ id, errors = [] }) {
  return errors.length
    ? html`<p class="field-error" id=${`${id}-error`}>${errors.join(' ')}</p>`
    : null;
}

/**
 * A checkbox with its label.
 * @param {{ id: string, label: string, checked: boolean, onChange: (checked: boolean) => void,
 *   hint?: string }} props
 */
export function Check({ id, label, checked, onChange, hint }) {
  return html`<div class="check">
    <input
      type="checkbox"
      id=${id}
      checked=${checked}
      aria-describedby=${hint ? `${id}-hint` : undefined}
      onChange=${(/** @type {Event} */ e) =>
        onChange(/** @type {HTMLInputElement} */ (e.currentTarget).checked)}
    />
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
  </div>`;
}

/**
 * A searchable picker: type to narrow a long list, tick one (`single`) or several.
 * @param {{ id: string, legend: string, options: { code: string, label: string }[],
 *   selected: string[], onChange: (codes: string[]) => void, single?: boolean,
 *   errors?: string[], hint?: string }} props
 */
export function Picker({ id, legend, options, selected, onChange, single, errors = [], hint }) {
  const [filter, setFilter] = useState('');
  const words = filter.trim().toLowerCase();
  const shown = options.filter(
    (o) => !words || o.label.toLowerCase().includes(words) || selected.includes(o.code),
  );
  const chosen = options.filter((o) => selected.includes(o.code));
  /** @param {string} code @param {boolean} on */
  const toggle = (code, on) => {
    if (single) onChange(on ? [code] : []);
    else onChange(on ? [...selected, code] : selected.filter((c) => c !== code));
  };
  return html`<fieldset
    class=${errors.length ? 'picker invalid' : 'picker'}
    aria-describedby=${errors.length ? `${id}-error` : undefined}
  >
    <legend>${legend}</legend>
    ${hint ? html`<p class="hint">${hint}</p>` : null}
    <p class="chosen" aria-live="polite">
      ${chosen.length ? `Chosen: ${chosen.map((o) => o.label).join(', ')}` : 'None chosen yet.'}
    </p>
    ${options.length > 8
      ? html`<label class="search-label" for=${`${id}-search`}>Search ${legend.toLowerCase()}</label>
          <input
            id=${`${id}-search`}
            type="search"
            value=${filter}
            autocomplete="off"
            onInput=${(/** @type {Event} */ e) =>
              setFilter(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
          />`
      : null}
    <ul class="options">
      ${shown.map(
        (o) => html`<li key=${o.code}>
          <input
            type=${single ? 'radio' : 'checkbox'}
            name=${id}
            id=${`${id}-${o.code}`}
            value=${o.code}
            checked=${selected.includes(o.code)}
            onChange=${(/** @type {Event} */ e) =>
              toggle(o.code, /** @type {HTMLInputElement} */ (e.currentTarget).checked)}
          />
          <label for=${`${id}-${o.code}`}>${o.label}</label>
        </li>`,
      )}
      ${shown.length === 0 ? html`<li class="hint">Nothing matches “${filter}”.</li>` : null}
    </ul>
    <${FieldErrors} id=${id} errors=${errors} />
  </fieldset>`;
}

/**
 * The heading of a page, focused when the page opens so that screen readers announce it.
 * @param {{ children: any }} props
 */
export function Title({ children }) {
  const ref = useRef(/** @type {HTMLHeadingElement | null} */ (null));
  useEffect(() => {
    ref.current?.focus();
    document.title = `${ref.current?.textContent ?? ''} · Alongside`;
  }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

/** @type {Promise<Schemas['VocabularyLists']> | null} */
let vocabulary = null;

/** The vocabulary, loaded once. */
export function loadVocabulary() {
  vocabulary ??= call('get', '/api/v1/vocabulary').catch((error) => {
    vocabulary = null;
    throw error;
  });
  return vocabulary;
}

/** @returns {Schemas['VocabularyLists'] | null} */
export function useVocabulary() {
  const [lists, setLists] = useState(/** @type {Schemas['VocabularyLists'] | null} */ (null));
  useEffect(() => {
    loadVocabulary().then(setLists, () => setLists(null));
  }, []);
  return lists;
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });

/** @param {string} code ISO 639-1 */
export function languageName(code) {
  try {
    return languageNames.of(code) || code;
  } catch {
    return code;
  }
}

/**
 * The label of a code in a vocabulary list.
 * @param {{ code: string, label: string }[] | undefined} list
 * @param {string} code
 */
export function label(list, code) {
  return list?.find((e) => e.code === code)?.label ?? code.replaceAll('_', ' ');
}

/** @param {Schemas['Place']} place */
export function placeName(place) {
  return [place.name, place.region].filter(Boolean).join(', ');
}

/**
 * Runs `action`, keeping its error for the form; `done` follows a success.
 * @param {(busy: boolean) => void} setBusy
 * @param {(error: unknown) => void} setError
 */
export function runner(setBusy, setError) {
  /** @param {() => Promise<unknown>} action @param {() => void} [done] */
  return async (action, done) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      done?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
}
