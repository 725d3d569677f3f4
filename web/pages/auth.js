// @ts-check
// Signing up, confirming the email, signing in and out, and resetting a forgotten password.

import { useEffect, useState } from '../vendor/hooks.js';
import { ApiError, call, signIn } from '../api.js';
import { Field, FormError, Title, fieldErrors, html, navigate } from '../ui.js';

/** @typedef {import('../app.js').PageProps} PageProps */

/**
 * Where to go after signing in.
 * @param {import('../client').Schemas['Me'] | null} me
 */
function home(me) {
  return me?.profile ? '/suggestions' : '/profile';
}

/**
 * A form that submits once at a time and keeps the error of its last try.
 * @param {() => Promise<void>} action
 */
function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {unknown} */ (null));
  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit, fields: fieldErrors(error) };
}

/** @param {PageProps} props */
export function Welcome({ me, query }) {
  useEffect(() => {
    if (me) navigate(home(me), true);
  }, [me]);
  return html`<section class="welcome">
    <${Title}>Find your people in practice</${Title}>
    ${query.get('deleted')
      ? html`<p class="notice" role="status">Your account is deleted. Thank you for being part of Alongside.</p>`
      : null}
    <p>
      Alongside connects allied-health practitioners who work alone — the only occupational
      therapist in town, a physio visiting people at home, a new graduate in solo practice —
      with peers and mentors who share their practice.
    </p>
    <p class="actions">
      <a class="button" href="/sign-up">Create an account</a>
      <a class="button secondary" href="/sign-in">Sign in</a>
    </p>
  </section>`;
}

/** @param {PageProps} props */
export function SignUp({ reloadMe }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit, fields } = useSubmit(async () => {
    await call('post', '/api/v1/auth/register', {
      body: { display_name: name, email, password },
    });
    await signIn(email, password);
    await reloadMe();
    navigate('/profile?welcome=1');
  });
  return html`<section>
    <${Title}>Create your account</${Title}>
    <form onSubmit=${submit} noValidate>
      <${Field} id="display_name" label="Your name" value=${name} onInput=${setName}
        autocomplete="name" required errors=${fields.display_name}
        hint="As colleagues know you. Others see it on your profile." />
      <${Field} id="email" label="Email" type="email" value=${email} onInput=${setEmail}
        autocomplete="email" required errors=${fields.email}
        hint="We send a link to confirm it. Only people you connect with ever see it." />
      <${Field} id="password" label="Password" type="password" value=${password}
        onInput=${setPassword} autocomplete="new-password" required
        errors=${fields.password} hint="At least 10 characters." />
      <${FormError} error=${Object.keys(fields).length ? null : error} />
      <button type="submit" disabled=${busy}>${busy ? 'Creating…' : 'Create account'}</button>
    </form>
    <p>Already have an account? <a href="/sign-in">Sign in</a></p>
  </section>`;
}

/** @param {PageProps & { next?: string }} props */
export function SignIn({ me, reloadMe, query, next }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    await signIn(email, password);
    const fresh = await reloadMe();
    const target = next ? decodeURIComponent(next) : query.get('next');
    navigate(target && target.startsWith('/') && !target.startsWith('//') ? target : home(fresh));
  });
  useEffect(() => {
    if (me && !next) navigate(home(me), true);
  }, [me]);
  const notice = query.get('expired')
    ? 'Your session ended. Please sign in again.'
    : query.get('signed_out')
      ? 'You are signed out.'
      : query.get('reset')
        ? 'Your password is changed. Sign in with the new one.'
        : query.get('verified')
          ? 'Your email is confirmed. Sign in to continue.'
          : '';
  return html`<section>
    <${Title}>Sign in</${Title}>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <form onSubmit=${submit} noValidate>
      <${Field} id="email" label="Email" type="email" value=${email} onInput=${setEmail}
        autocomplete="email" required />
      <${Field} id="password" label="Password" type="password" value=${password}
        onInput=${setPassword} autocomplete="current-password" required />
      <${FormError} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    <p><a href="/forgot-password">Forgot your password?</a></p>
    <p>New here? <a href="/sign-up">Create an account</a></p>
  </section>`;
}

/** @param {PageProps} props */
export function VerifyEmail({ me, reloadMe, query }) {
  const token = query.get('token') ?? '';
  const [state, setState] = useState(/** @type {'checking' | 'done' | 'failed'} */ ('checking'));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  useEffect(() => {
    call('post', '/api/v1/auth/verify-email', { body: { token } }).then(
      async () => {
        const fresh = me ? await reloadMe() : null;
        setState('done');
        if (fresh) navigate(`${home(fresh)}?verified=1`, true);
      },
      (e) => {
        setError(e);
        setState('failed');
      },
    );
  }, []);
  if (state === 'checking') {
    return html`<section><${Title}>Confirming your email…</${Title}></section>`;
  }
  if (state === 'done') {
    return html`<section>
      <${Title}>Your email is confirmed</${Title}>
      <p>Thank you. Sign in to finish your profile and see your suggestions.</p>
      <p><a class="button" href="/sign-in">Sign in</a></p>
    </section>`;
  }
  const expired = error instanceof ApiError && error.status === 400;
  return html`<section>
    <${Title}>${expired ? 'This link has expired' : 'We could not confirm your email'}</${Title}>
    <p role="alert">
      ${expired
        ? 'The link is too old, or it was already used. Links work once, for a limited time.'
        : error instanceof Error
          ? error.message
          : ''}
    </p>
    ${me
      ? me.email_verified
        ? html`<p>Your email is already confirmed. <a href=${home(me)}>Carry on</a></p>`
        : html`<${SendAnother} />`
      : html`<p>Sign in and we will offer to send you another link.</p>
          <p><a class="button" href="/sign-in">Sign in to send another</a></p>`}
  </section>`;
}

function SendAnother() {
  const [state, setState] = useState('');
  const send = async () => {
    setState('Sending…');
    try {
      await call('post', '/api/v1/me/verification-email');
      setState('Sent. Check your inbox for the new link.');
    } catch (e) {
      setState(e instanceof Error ? e.message : 'Could not send it.');
    }
  };
  return html`<p>
      <button type="button" onClick=${send}>Send another link</button>
    </p>
    <p role="status">${state}</p>`;
}

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, submit } = useSubmit(async () => {
    await call('post', '/api/v1/auth/password-reset', { body: { email } });
    setSent(true);
  });
  return html`<section>
    <${Title}>Reset your password</${Title}>
    ${sent
      ? html`<p role="status" class="notice">
          If an account uses ${email}, we have emailed it a link to choose a new password.
          The link works once, for a limited time.
        </p>`
      : html`<form onSubmit=${submit} noValidate>
          <p>We will email you a link to choose a new password.</p>
          <${Field} id="email" label="Email" type="email" value=${email} onInput=${setEmail}
            autocomplete="email" required />
          <${FormError} error=${error} />
          <button type="submit" disabled=${busy}>Email me a link</button>
        </form>`}
    <p><a href="/sign-in">Back to sign in</a></p>
  </section>`;
}

/** @param {PageProps} props */
export function ResetPassword({ query }) {
  const token = query.get('token') ?? '';
  const [password, setPassword] = useState('');
  const { busy, error, submit, fields } = useSubmit(async () => {
    await call('post', '/api/v1/auth/password-reset/confirm', {
      body: { token, new_password: password },
    });
    navigate('/sign-in?reset=1');
  });
  const expired = error instanceof ApiError && error.status === 400;
  return html`<section>
    <${Title}>Choose a new password</${Title}>
    <form onSubmit=${submit} noValidate>
      <${Field} id="new_password" label="New password" type="password" value=${password}
        onInput=${setPassword} autocomplete="new-password" required
        errors=${fields.new_password} hint="At least 10 characters. You will be signed out everywhere." />
      <${FormError} error=${Object.keys(fields).length ? null : error} />
      <button type="submit" disabled=${busy}>Save the new password</button>
    </form>
    ${expired
      ? html`<p><a href="/forgot-password">Send me a new link</a></p>`
      : null}
  </section>`;
}

export function NotFound() {
  return html`<section>
    <${Title}>Page not found</${Title}>
    <p>There is nothing at this address. <a href="/">Go to the start</a></p>
  </section>`;
}
