// @ts-check
// The web app: restores the session, then shows the page for the address.

import { render } from './vendor/preact.js';
import { useCallback, useEffect, useState } from './vendor/hooks.js';
import { call, onSignedOut, refresh, signOut } from './api.js';
import { html, navigate } from './ui.js';
import * as auth from './pages/auth.js';
import { ProfileWizard } from './pages/profile.js';
import { Directory, PersonPage, Suggestions } from './pages/people.js';
import { Connections } from './pages/connections.js';
import { ConnectionPage } from './pages/connection.js';
import { CirclePage, Circles } from './pages/circles.js';
import { Mentoring, Settings } from './pages/settings.js';
import { Admin } from './pages/admin.js';
import { DevelopmentLog } from './pages/log.js';
import { CheckInLink } from './pages/check_ins.js';

/** @typedef {import('./client').Schemas} Schemas */
/**
 * What every page is given.
 * @typedef {{ me: Schemas['Me'] | null, reloadMe: () => Promise<Schemas['Me'] | null>,
 *   params: Record<string, string>, query: URLSearchParams }} PageProps
 */

/** Pages anyone may open, and pages for the signed-in. */
const open = {
  '/': auth.Welcome,
  '/sign-up': auth.SignUp,
  '/sign-in': auth.SignIn,
  '/verify-email': auth.VerifyEmail,
  '/forgot-password': auth.ForgotPassword,
  '/reset-password': auth.ResetPassword,
  '/check-in': CheckInLink,
};
/** @type {Record<string, (props: PageProps) => any>} */
const signedIn = {
  '/profile': ProfileWizard,
  '/suggestions': Suggestions,
  '/directory': Directory,
  '/people/:id': PersonPage,
  '/connections': Connections,
  '/connections/:id': ConnectionPage,
  '/circles': Circles,
  '/circles/:id': CirclePage,
  '/log': DevelopmentLog,
  '/settings': Settings,
  '/mentoring': Mentoring,
  '/admin': Admin,
};

/**
 * The page for a path and its parameters.
 * @param {Record<string, any>} pages
 * @param {string} path
 */
function match(pages, path) {
  for (const [pattern, page] of Object.entries(pages)) {
    const names = /** @type {string[]} */ ([]);
    const regex = new RegExp(
      `^${pattern.replace(/:(\w+)/g, (_, name) => {
        names.push(name);
        return '([^/]+)';
      })}/?$`,
    );
    const found = regex.exec(path);
    if (found) {
      /** @type {Record<string, string>} */
      const params = {};
      names.forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1])));
      return { page, params };
    }
  }
  return null;
}

function usePath() {
  const [location, setLocation] = useState(() => ({
    path: window.location.pathname,
    search: window.location.search,
  }));
  useEffect(() => {
    const update = () =>
      setLocation({ path: window.location.pathname, search: window.location.search });
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return location;
}

/** Links inside the app open without a reload. @param {MouseEvent} event */
function followLink(event) {
  const link = /** @type {HTMLElement} */ (event.target).closest?.('a');
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    link.target ||
    link.hasAttribute('download') ||
    link.origin !== window.location.origin ||
    link.pathname.startsWith('/api/')
  ) {
    return;
  }
  event.preventDefault();
  navigate(link.pathname + link.search);
}

/** @param {{ me: Schemas['Me'], path: string, onSignOut: () => void }} props */
function Nav({ me, path, onSignOut }) {
  const offering = me.profile?.mentoring.offering;
  const links = [
    ['/suggestions', 'Suggestions'],
    ['/directory', 'Directory'],
    ['/connections', 'Connections'],
    ['/circles', 'Circles'],
    ['/log', 'Log'],
    ['/profile', 'My profile'],
    ...(offering ? [['/mentoring', 'Mentoring']] : []),
    ['/settings', 'Settings'],
    ...(me.role === 'admin' ? [['/admin', 'Admin']] : []),
  ];
  return html`<nav aria-label="Main">
    <ul>
      ${links.map(
        ([href, text]) =>
          html`<li key=${href}>
            <a href=${href} aria-current=${path.startsWith(href) ? 'page' : undefined}>${text}</a>
          </li>`,
      )}
      <li><button type="button" class="link" onClick=${onSignOut}>Sign out</button></li>
    </ul>
  </nav>`;
}

/** @param {{ me: Schemas['Me'] }} props */
function VerifyBanner({ me }) {
  const [state, setState] = useState(/** @type {'idle' | 'sending' | 'sent' | string} */ ('idle'));
  if (me.email_verified) return null;
  const send = async () => {
    setState('sending');
    try {
      await call('post', '/api/v1/me/verification-email');
      setState('sent');
    } catch (error) {
      setState(error instanceof Error ? error.message : 'Could not send the email.');
    }
  };
  return html`<aside class="banner" aria-labelledby="verify-banner">
    <p id="verify-banner">
      Please confirm your email address with the link we sent to <strong>${me.email}</strong>.
      Until then nobody is suggested your profile and you cannot send requests.
    </p>
    <button type="button" onClick=${send} disabled=${state === 'sending'}>
      Send the link again
    </button>
    <p role="status">
      ${state === 'sent' ? 'Sent. Check your inbox.' : state === 'idle' || state === 'sending' ? '' : state}
    </p>
  </aside>`;
}

function App() {
  const { path, search } = usePath();
  const [me, setMe] = useState(/** @type {Schemas['Me'] | null} */ (null));
  const [ready, setReady] = useState(false);

  const reloadMe = useCallback(async () => {
    try {
      const fresh = await call('get', '/api/v1/me');
      setMe(fresh);
      return fresh;
    } catch {
      setMe(null);
      return null;
    }
  }, []);

  useEffect(() => {
    onSignedOut(() => {
      setMe(null);
      navigate('/sign-in?expired=1');
    });
    refresh()
      .then((ok) => (ok ? reloadMe() : null))
      .finally(() => setReady(true));
    document.addEventListener('click', followLink);
  }, []);

  const leave = async () => {
    await signOut().catch(() => {});
    setMe(null);
    navigate('/sign-in?signed_out=1');
  };

  const query = new URLSearchParams(search);
  const props = { me, reloadMe, query };
  let content;
  const found = match(open, path) ?? match(signedIn, path);
  if (!ready) {
    content = html`<p class="state" role="status">Loading…</p>`;
  } else if (!found) {
    content = html`<${auth.NotFound} />`;
  } else if (path in open || me) {
    const Page = found.page;
    content = html`<${Page} key=${path} ...${props} params=${found.params} />`;
  } else {
    const back = encodeURIComponent(path + search);
    content = html`<${auth.SignIn} ...${props} params=${{}} next=${back} />`;
  }

  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header>
      <a class="brand" href=${me ? '/suggestions' : '/'}>Alongside</a>
      ${me ? html`<${Nav} me=${me} path=${path} onSignOut=${leave} />` : null}
    </header>
    ${me && path !== '/verify-email' ? html`<${VerifyBanner} me=${me} />` : null}
    <main id="main">${content}</main>
  `;
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
