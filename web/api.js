// @ts-check
// The API client: every call the app makes goes through `call`, typed from openapi.yaml.
// The access token lives in memory only; the refresh token is in an HttpOnly cookie that
// page script cannot read (see POST /api/v1/auth/session).

/** @typedef {import('./client').Schemas} Schemas */
/** @typedef {import('./client').Method} Method */

/** A problem document (RFC 9457) from the API, or a network failure. */
export class ApiError extends Error {
  /**
   * @param {number} status 0 when the network failed
   * @param {Partial<Schemas['Problem']>} problem
   */
  constructor(status, problem) {
    super(problem.detail || problem.title || 'Something went wrong.');
    this.status = status;
    this.type = problem.type || '';
    /** @type {Record<string, string[]>} */
    this.fields = problem.errors || {};
  }
}

/** @type {string | null} */
let accessToken = null;
let expiresAt = 0;
/** @type {Promise<boolean> | null} */
let refreshing = null;
/** @type {Set<() => void>} */
const signedOutListeners = new Set();

/** @param {() => void} listener called when the session ends (expired or revoked) */
export function onSignedOut(listener) {
  signedOutListeners.add(listener);
}

/** @param {Schemas['SessionToken']} token */
function keep(token) {
  accessToken = token.access_token;
  // Refresh a little before the token runs out.
  expiresAt = Date.now() + Math.max(0, token.expires_in - 30) * 1000;
}

function forget() {
  accessToken = null;
  expiresAt = 0;
}

export function signedIn() {
  return accessToken !== null;
}

/**
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @param {boolean} [withToken]
 */
async function send(method, url, body, withToken = true) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (withToken && accessToken) headers.authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(url, {
      method: method.toUpperCase(),
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, {
      detail: 'Could not reach Alongside. Check your connection and try again.',
    });
  }
}

/** @param {Response} response */
async function fail(response) {
  /** @type {Partial<Schemas['Problem']>} */
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    problem = { detail: `The server answered ${response.status}.` };
  }
  return new ApiError(response.status, problem);
}

/** Swaps the session cookie for a fresh access token; false when there is no session. */
export function refresh() {
  refreshing ??= (async () => {
    try {
      const response = await send('post', '/api/v1/auth/session/refresh', undefined, false);
      if (!response.ok) {
        forget();
        return false;
      }
      keep(await response.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/**
 * Sends a request to the API, refreshing the access token when it has run out; a failure
 * is thrown as an ApiError. Path parameters fill `{name}` in the path.
 * @param {string} method
 * @param {string} path
 * @param {{ params?: unknown, query?: unknown, body?: unknown }} options
 */
async function request(method, path, options) {
  let url = path;
  const params = /** @type {Record<string, string> | undefined} */ (options.params);
  for (const [name, value] of Object.entries(params || {})) {
    url = url.replace(`{${name}}`, encodeURIComponent(value));
  }
  const query = /** @type {Record<string, unknown> | undefined} */ (options.query);
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  if ([...search].length) url += `?${search}`;
  if (accessToken && Date.now() > expiresAt) await refresh();
  let response = await send(method, url, options.body);
  if (response.status === 401 && accessToken) {
    if (await refresh()) {
      response = await send(method, url, options.body);
    } else {
      signedOutListeners.forEach((listener) => listener());
    }
  }
  if (!response.ok) throw await fail(response);
  return response;
}

/**
 * Calls the API and reads its JSON answer.
 * @template {Method} M
 * @template {import('./client').PathsWith<M>} P
 * @param {M} method
 * @param {P} path
 * @param {import('./client').Options<P, M>} [options]
 * @returns {Promise<import('./client').Result<P, M>>}
 */
export async function call(method, path, options = {}) {
  const response = await request(method, /** @type {string} */ (path), /** @type {any} */ (options));
  if (response.status === 204) return /** @type {any} */ (null);
  return response.json();
}

/**
 * Fetches a file the API makes (a CSV or a PDF) and hands it to the browser to save.
 * @param {'/api/v1/me/log/export.csv' | '/api/v1/me/log/export.pdf'} path
 * @param {Record<string, string | undefined>} query
 * @param {string} name
 */
export async function download(path, query, name) {
  const response = await request('get', path, { query });
  saveFile(await response.blob(), name);
}

/**
 * Hands `blob` to the browser to save as `name`.
 * @param {Blob} blob
 * @param {string} name
 */
export function saveFile(blob, name) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

/**
 * Signs in: the session cookie is set by the server, the access token kept here.
 * @param {string} email
 * @param {string} password
 */
export async function signIn(email, password) {
  keep(await call('post', '/api/v1/auth/session', { body: { email, password } }));
}

export async function signOut() {
  try {
    await call('delete', '/api/v1/auth/session');
  } finally {
    forget();
  }
}
