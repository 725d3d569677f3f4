// Browser journeys through the web app, in Chromium, against a running `alongside`:
//   BASE_URL  the server (e.g. http://localhost:8123)
//   OUTBOX    its file outbox ($DATA_DIR/outbox), where emails arrive as .eml files
//   ADMIN_EMAIL / ADMIN_PASSWORD  an admin made with `alongside create-admin`
//   SCREENSHOTS  where to keep the phone-width screenshots (docs/screenshots)
// Every page is checked with axe-core (WCAG 2.2 A and AA rules): any violation fails. Every
// journey is driven with the keyboard alone (Tab, Enter, Space, arrows, typing).
import { chromium } from 'playwright-core';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const OUTBOX = process.env.OUTBOX;
const SHOTS = process.env.SCREENSHOTS;
const PASSWORD = 'a long enough password';
const PHONE = { width: 360, height: 800 };
const DESKTOP = { width: 1280, height: 800 };
if (!BASE || !OUTBOX || !SHOTS) throw new Error('BASE_URL, OUTBOX and SCREENSHOTS are needed');
mkdirSync(SHOTS, { recursive: true });

const checked = new Set();
let failures = 0;

function assert(condition, text) {
  if (!condition) throw new Error(`expected: ${text}`);
}

/** The newest email to `to` whose body has a link to `path`, once it arrives. */
async function link(to, path, after = 0, wait = 15000) {
  const deadline = Date.now() + wait;
  while (Date.now() < deadline) {
    const found = [];
    for (const name of readdirSync(OUTBOX).filter((n) => n.endsWith('.eml'))) {
      const raw = readFileSync(join(OUTBOX, name), 'utf8');
      const text = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
      if (!new RegExp(`^To: .*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(text)) continue;
      // Signed tokens have dots; one ending a sentence is not the token's.
      const match = text.match(new RegExp(`https?://[^\\s"<>]*${path}\\?token=[A-Za-z0-9_.-]+`));
      if (match) found.push(match[0].replace(/\.$/, ''));
    }
    if (found.length > after) return found[found.length - 1];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no email to ${to} with a ${path} link`);
}

function count(to, path) {
  return link(to, path, -1).then(
    () =>
      readdirSync(OUTBOX)
        .map((n) => readFileSync(join(OUTBOX, n), 'utf8').replace(/=\r?\n/g, ''))
        .filter((t) => t.includes(to) && t.includes(path)).length,
    () => 0,
  );
}

/** axe-core on the page as it is now; `name` is the page's name in the report. */
async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    }),
  );
  const violations = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`,
  );
  if (violations.length) throw new Error(`axe on ${name}:\n  ${violations.join('\n  ')}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `${name} fits the window's width (${overflow} px too wide)`);
  checked.add(name);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A person: their own browser context at phone size, sharing a position. */
async function person(browser, name, position, viewport = PHONE) {
  const phone = viewport === PHONE;
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'en-NZ',
    timezoneId: 'Pacific/Auckland',
    geolocation: position,
    permissions: ['geolocation', 'clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500 && !r.headers()['x-simulated']) problems.push(`${r.status()} from ${r.url()}`);
  });
  const email = `${name.toLowerCase()}@example.org`;
  return { name, email, context, page, problems };
}

async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 10000 });
}

/** Presses Tab until the focused element is `locator`: reachable by keyboard alone. */
async function tabTo(page, locator, limit = 400) {
  await locator.waitFor();
  const target = await locator.elementHandle();
  if (await page.evaluate((el) => document.activeElement === el, target)) return;
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((el) => document.activeElement === el, target)) return;
  }
  throw new Error(`could not reach ${locator} with Tab`);
}

// Every journey is driven with the keyboard alone: each control is reached with Tab and
// worked with Enter, Space, the arrow keys or typing, as a person without a mouse would.

/** Activates a button, link or summary. */
async function press(locator) {
  const page = locator.page();
  await tabTo(page, locator);
  await page.keyboard.press('Enter');
}

/** Replaces a field's text by typing. */
async function fill(locator, text) {
  const page = locator.page();
  await tabTo(page, locator);
  if ((await locator.getAttribute('type')) === 'datetime-local') {
    // The same order, then the hour on a 12-hour clock, the minutes and AM or PM. The year
    // takes up to six digits, so an arrow key moves on from it.
    const [day, time] = text.split('T');
    const [y, m, d] = day.split('-');
    const [hours, minutes] = time.split(':').map(Number);
    const h12 = String(((hours + 11) % 12) + 1).padStart(2, '0');
    await page.keyboard.type(`${m}${d}${y}`);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.type(`${h12}${String(minutes).padStart(2, '0')}${hours >= 12 ? 'P' : 'A'}`);
    const typed = await locator.inputValue();
    assert(typed === text, `the date and time field reads ${text}, not ${typed}`);
    return;
  }
  if ((await locator.getAttribute('type')) === 'date') {
    // Chromium's date field takes its parts in the order of the browser's own language,
    // which main() sets to en-US: month, day, year.
    const [y, m, d] = text.split('-');
    await page.keyboard.type(`${m}${d}${y}`);
    const typed = await locator.inputValue();
    assert(typed === text, `the date field reads ${text}, not ${typed}`);
    return;
  }
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

/** Ticks (or clears) a checkbox with Space; chooses a radio button with the arrow keys. */
async function check(locator, checked = true) {
  const page = locator.page();
  if ((await locator.getAttribute('type')) === 'radio') {
    // Tab reaches a radio group once, at its chosen button; the arrows move the choice.
    const group = `input[type=radio][name="${await locator.getAttribute('name')}"]`;
    const chosen = page.locator(`${group}:checked`);
    await tabTo(page, (await chosen.count()) ? chosen : page.locator(group).first());
    const target = await locator.elementHandle();
    for (let i = 0; i < 20 && !(await locator.isChecked()); i++) {
      const here = await page.evaluate((el) => document.activeElement === el, target);
      await page.keyboard.press(here ? 'Space' : 'ArrowDown');
    }
    assert(await locator.isChecked(), `${locator} is chosen`);
    return;
  }
  await tabTo(page, locator);
  if ((await locator.isChecked()) !== checked) await page.keyboard.press('Space');
  assert((await locator.isChecked()) === checked, `${locator} is ${checked ? 'checked' : 'clear'}`);
}

/** Chooses an option of a select with the arrow keys. */
async function choose(locator, value) {
  const page = locator.page();
  await tabTo(page, locator);
  const values = await locator.evaluate((el) => [...el.options].map((o) => o.value));
  const from = values.indexOf(await locator.inputValue());
  const to = values.indexOf(value);
  assert(to >= 0, `${value} is an option`);
  for (let i = from; i !== to; i += to > from ? 1 : -1) {
    await page.keyboard.press(to > from ? 'ArrowDown' : 'ArrowUp');
  }
  assert((await locator.inputValue()) === value, `${value} is chosen`);
}

/** Sign up with the keyboard alone, from the front page. */
async function signUpByKeyboard(p) {
  const { page } = p;
  await page.goto(BASE);
  await heading(page, 'Find your people in practice');
  await axe(page, 'welcome');
  await shot(page, 'welcome');
  await tabTo(page, page.getByRole('link', { name: 'Create an account' }));
  await page.keyboard.press('Enter');
  await heading(page, 'Create your account');
  await axe(page, 'sign up');
  await tabTo(page, page.getByLabel('Your name'));
  await page.keyboard.type(p.name);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab'); // past the hint-less order: email
  if (!(await page.getByLabel('Email').evaluate((el) => el === document.activeElement))) {
    await tabTo(page, page.getByLabel('Email'));
  }
  await page.keyboard.type(p.email);
  await tabTo(page, page.getByLabel('Password'));
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await heading(page, 'Tell us about your practice');
}

/** Sign up (the second and third people). */
async function signUp(p) {
  const { page } = p;
  await page.goto(`${BASE}/sign-up`);
  await fill(page.getByLabel('Your name'), p.name);
  await fill(page.getByLabel('Email'), p.email);
  await fill(page.getByLabel('Password'), PASSWORD);
  await press(page.getByRole('button', { name: 'Create account' }));
  await heading(page, 'Tell us about your practice');
}

/** Opens the emailed verification link in the same browser: lands signed in. */
async function verify(p) {
  const url = await link(p.email, '/verify-email');
  await p.page.goto(url);
  await heading(p.page, 'Tell us about your practice');
  await p.page.getByText('Your email is confirmed.').waitFor();
  assert(
    !(await p.page.getByText('Please confirm your email address').count()),
    'no reminder to confirm once confirmed',
  );
}

/** The profile wizard, all four steps. */
async function fillProfile(p, { mentor = false, seekMentor = false, screenshots = false, town = null } = {}) {
  const { page } = p;
  const step = (n) => page.getByRole('heading', { level: 2, name: new RegExp(`^Step ${n} of 4`) });
  await step(1).waitFor();
  if (screenshots) {
    await axe(page, 'profile step 1');
  }
  await fill(page.getByLabel('Search profession'), 'occup');
  await check(page.getByLabel('Occupational therapy'));
  await fill(page.getByLabel('Years in practice'), '7');
  await fill(page.getByLabel('About your practice (optional)'), `${p.name} visits older people at home.`);
  if (screenshots) await shot(page, 'profile-wizard');
  await press(page.getByRole('button', { name: 'Next' }));
  await step(2).waitFor();
  await fill(page.getByLabel('Search people you work with'), 'older');
  await check(page.getByLabel('Older adults'));
  await fill(page.getByLabel('Search where you see them'), 'home');
  await check(page.getByLabel('Home visits'));
  if (screenshots) await axe(page, 'profile step 2');
  await press(page.getByRole('button', { name: 'Next' }));
  await step(3).waitFor();
  if (town) {
    // By name: the town's own position is used.
    await fill(page.getByLabel('Your town'), town.typed);
    await page.getByRole('list', { name: 'Towns' }).waitFor();
    if (screenshots) {
      await axe(page, 'profile step 3 (town search)');
      await shot(page, 'town-search');
    }
    await press(page.getByRole('list', { name: 'Towns' }).getByRole('button', { name: town.pick }));
    await page.getByText(`Chosen: ${town.pick}`).waitFor();
  } else {
    await press(page.getByRole('button', { name: 'Use my location' }));
    await page.getByText('Position found').waitFor();
  }
  const zone = await page.getByLabel('Time zone').inputValue();
  assert(zone === 'Pacific/Auckland', `time zone from the browser, got ${zone}`);
  if (screenshots) await axe(page, 'profile step 3');
  await press(page.getByRole('button', { name: 'Next' }));
  await step(4).waitFor();
  if (seekMentor) await check(page.getByLabel('A mentor'));
  if (mentor) {
    await check(page.getByLabel('I offer to mentor'));
    await fill(page.getByLabel('How many mentees at a time (1 to 20)'), '2');
  }
  if (screenshots) await axe(page, 'profile step 4');
  await press(page.getByRole('button', { name: 'Save profile' }));
  await heading(page, 'Your profile is saved');
  if (screenshots) {
    await axe(page, 'profile saved');
    await shot(page, 'profile-saved');
  }
}

async function signIn(p, password = PASSWORD) {
  await p.page.goto(`${BASE}/sign-in`);
  await heading(p.page, 'Sign in');
  await fill(p.page.getByLabel('Email'), p.email);
  await fill(p.page.getByLabel('Password'), password);
  await press(p.page.getByRole('button', { name: 'Sign in' }));
  await p.page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Waits until the suggestions list (of `kind`) names `who`, reloading as the index catches up. */
async function findInSuggestions(page, who, kind = 'peer') {
  for (let i = 0; i < 20; i++) {
    await page.goto(`${BASE}/suggestions${kind === 'mentor' ? '?kind=mentor' : ''}`);
    await heading(page, 'Suggestions');
    await page.locator('.cards, .state.empty, .state.error').first().waitFor();
    if (await page.getByRole('link', { name: who, exact: true }).count()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${who} never appeared in the ${kind} suggestions`);
}

const tests = [];
const test = (name, body) => tests.push({ name, body });

let browser;
let admin;
let ana;
let ben;
let cleo;

test('axe-core reports a page that breaks the rules', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.setContent('<!doctype html><html><body><input type="text"><img src="x.png"></body></html>');
  let caught = '';
  await axe(page, 'a bad page').catch((e) => (caught = e.message));
  checked.delete('a bad page');
  assert(caught.includes('label') && caught.includes('image-alt'), `axe names the faults: ${caught}`);
  await context.close();
});

test('the app can be installed: Chromium finds nothing missing from its manifest', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto(BASE);
  await heading(page, 'Find your people in practice');
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // A test's browser context is private, which alone stops an install; nothing else may.
  const missing = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
  assert(!missing.length, `installable: ${JSON.stringify(missing)}`);
  const manifest = await cdp.send('Page.getAppManifest');
  assert(!manifest.errors.length, `a valid manifest: ${JSON.stringify(manifest.errors)}`);
  await context.close();
});

test('the server answers app paths with the app and API paths with problems', async () => {
  const page = await fetch(`${BASE}/reset-password?token=abc`);
  assert(page.status === 200, 'an emailed link opens the app');
  assert(page.headers.get('content-type').startsWith('text/html'), 'html');
  const csp = page.headers.get('content-security-policy') ?? '';
  assert(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `a strict policy: ${csp}`);
  assert(page.headers.get('cache-control') === 'no-cache', 'the page is revalidated');
  const body = await page.text();
  const script = body.match(/src="(\/assets\/[0-9a-f]+\/app\.js)"/);
  assert(script, 'the page loads its script from a versioned path');
  const asset = await fetch(`${BASE}${script[1]}`);
  assert(asset.headers.get('content-type').startsWith('text/javascript'), 'javascript');
  assert(asset.headers.get('cache-control').includes('immutable'), 'versioned assets are immutable');
  const missing = await fetch(`${BASE}/api/v1/nothing-here`);
  assert(missing.status === 404, 'unknown API path is 404');
  assert(missing.headers.get('content-type').startsWith('application/problem+json'), 'as a problem');
});

test('a practitioner signs up with the keyboard alone and lands signed in from the emailed link', async () => {
  ana = await person(browser, 'Ana', { latitude: -45.8788, longitude: 170.5028 });
  await signUpByKeyboard(ana);
  await axe(ana.page, 'profile wizard (unconfirmed)');
  // A stale link: a clear page, and another link on request.
  await ana.page.goto(`${BASE}/verify-email?token=an-old-token`);
  await heading(ana.page, 'This link has expired');
  await axe(ana.page, 'expired link');
  await shot(ana.page, 'link-expired');
  await press(ana.page.getByRole('button', { name: 'Send another link' }));
  await ana.page.getByText('Sent. Check your inbox for the new link.').waitFor();
  await link(ana.email, '/verify-email', 1);
  await verify(ana);
  await fillProfile(ana, {
    seekMentor: true,
    screenshots: true,
    town: { typed: 'duned', pick: 'Dunedin, Otago' },
  });
  await ana.page.getByText(/Others see you near .*Dunedin/).waitFor();
});

test('the session survives a reload and the nav shows the signed-in pages', async () => {
  await ana.page.goto(`${BASE}/connections`);
  await heading(ana.page, 'Connections');
  await ana.page.reload();
  await heading(ana.page, 'Connections');
  await ana.page.getByRole('navigation', { name: 'Main' }).waitFor();
  const cookies = await ana.context.cookies();
  const session = cookies.find((c) => c.name === 'alongside_session');
  assert(session && session.httpOnly && session.sameSite === 'Strict', 'an HttpOnly SameSite=Strict session cookie');
  assert(!(await ana.page.evaluate(() => document.cookie.includes('alongside_session'))), 'page script cannot read it');
});

test('a second practitioner and a mentor sign up, confirm and fill in their profiles', async () => {
  ben = await person(browser, 'Ben', { latitude: -45.8742, longitude: 170.3486 });
  await signUp(ben);
  await verify(ben);
  await fillProfile(ben, { seekMentor: true });
  cleo = await person(browser, 'Cleo', { latitude: -43.5321, longitude: 172.6362 });
  await signUp(cleo);
  await verify(cleo);
  await fillProfile(cleo, { mentor: true });
});

test('a peer request sent with the keyboard alone is accepted and both see contact details', async () => {
  const { page } = ana;
  await findInSuggestions(page, 'Ben');
  await page.getByText('Why we suggest them:').first().waitFor();
  await axe(page, 'suggestions');
  await shot(page, 'suggestions');
  await tabTo(page, page.getByRole('link', { name: 'Ben', exact: true }));
  await page.keyboard.press('Enter');
  await heading(page, 'Ben');
  await axe(page, 'public profile');
  await tabTo(page, page.getByLabel('A message (optional)'));
  await page.keyboard.type('Hello Ben, I also do home visits near Dunedin.');
  await tabTo(page, page.getByRole('button', { name: 'Send request' }));
  await page.keyboard.press('Enter');
  await page.getByText('Request sent.').waitFor();
  await shot(page, 'public-profile');

  await ben.page.goto(`${BASE}/connections`);
  await heading(ben.page, 'Connections');
  await ben.page.getByRole('link', { name: 'Ana', exact: true }).waitFor();
  await axe(ben.page, 'connections (incoming)');
  await press(ben.page.getByRole('button', { name: 'Accept' }));
  await ben.page.getByText(ana.email).waitFor();
  await press(ben.page.getByRole('button', { name: 'Copy email' }));
  await ben.page.getByText('Email address copied.').waitFor();

  await page.goto(`${BASE}/connections?direction=outgoing`);
  await page.getByText(ben.email).waitFor();
  await axe(page, 'connections (outgoing)');
  await shot(page, 'connections');
});

test('a mentee asks a mentor, who accepts; both see contact details', async () => {
  const { page } = ana;
  await findInSuggestions(page, 'Cleo', 'mentor');
  await axe(page, 'suggestions (mentors)');
  await press(page.getByRole('link', { name: 'Cleo', exact: true }));
  await heading(page, 'Cleo');
  await check(page.getByLabel('To be mentored'));
  await fill(page.getByLabel('A message (optional)'), 'Could you mentor me on falls prevention?');
  await press(page.getByRole('button', { name: 'Send request' }));
  await page.getByText('Request sent.').waitFor();


  await cleo.page.goto(`${BASE}/connections`);
  await cleo.page.getByText('Asks you to mentor them').waitFor();
  await press(cleo.page.getByRole('button', { name: 'Accept' }));
  await cleo.page.getByText(ana.email).waitFor();
  await cleo.page.goto(`${BASE}/mentoring`);
  await heading(cleo.page, 'Mentoring');
  await cleo.page.getByRole('link', { name: 'Ana', exact: true }).waitFor();
  await axe(cleo.page, 'mentoring');
  await shot(cleo.page, 'mentoring');

  await page.goto(`${BASE}/connections?direction=outgoing`);
  await page.getByText(cleo.email).waitFor();
});

/** The raw emails to `to` whose subject starts with `subject`. */
function emailsTo(to, subject) {
  return readdirSync(OUTBOX)
    .filter((n) => n.endsWith('.eml'))
    .map((n) => readFileSync(join(OUTBOX, n), 'utf8'))
    .filter((t) => t.includes(`To: ${to}`) || t.includes(`<${to}>`))
    .filter((t) => t.includes(`Subject: ${subject}`));
}

test('a mentee and her mentor agree goals and plan a meeting, each seeing it in their own time', async () => {
  const { page } = ana;
  await page.goto(`${BASE}/connections?direction=outgoing`);
  await press(page.getByRole('link', { name: 'Agreement and meetings with Cleo' }));
  await heading(page, 'You and Cleo');
  await page.getByText('You have not planned a meeting with Cleo yet.').waitFor();
  await axe(page, 'connection (new agreement)');
  await fill(page.getByLabel('Goals, one a line'), 'Plan home visits around the school run');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Write up two falls cases for supervision');
  await fill(page.getByLabel('What stays between you (optional)'), 'What we discuss about clients stays between us.');
  await press(page.getByRole('button', { name: 'Propose the agreement' }));
  await page.getByText('Waiting for Cleo to accept.').waitFor();

  const year = new Date().getFullYear() + 1;
  await fill(page.getByLabel('What it is about'), 'Caseload planning');
  await fill(page.getByLabel('A time that suits you (your time zone)'), `${year}-01-14T18:00`);
  await fill(page.getByLabel('Another time (optional)').first(), `${year}-01-16T07:30`);
  await fill(page.getByLabel('Where, or the video link (optional)'), 'https://meet.example.org/ana-cleo');
  await press(page.getByRole('button', { name: 'Propose', exact: true }));
  await page.getByText('Proposed. Cleo is emailed the times to pick from.').waitFor();
  await page.getByText(/Waiting for Cleo to pick one of: Thursday, 14 January \d{4} at 6:00 pm; Saturday, 16 January/).waitFor();

  const mentor = cleo.page;
  await mentor.goto(`${BASE}/connections`);
  await press(mentor.getByRole('link', { name: 'Agreement and meetings with Ana' }));
  await heading(mentor, 'You and Ana');
  await mentor.getByText('Ana proposed this. Accept it, or propose changes.').waitFor();
  await axe(mentor, 'connection (agreement and times to pick)');
  await shot(mentor, 'connection');
  await press(mentor.getByRole('button', { name: 'Accept the agreement' }));
  await mentor.getByText('You both agreed to this.').waitFor();
  // The goal is saved before the box shows it ticked.
  await tabTo(mentor, mentor.getByLabel('Plan home visits around the school run'));
  await mentor.keyboard.press('Space');
  await mentor.getByText('(done)').waitFor();
  assert(await mentor.getByLabel(/Plan home visits around the school run/).isChecked(), 'the goal is ticked');
  await check(mentor.getByLabel(/Saturday, 16 January/));
  await press(mentor.getByRole('button', { name: 'Pick this time' }));
  await mentor.getByText(/Saturday, 16 January \d{4} at 7:30.*\(Pacific\/Auckland\), 45 minutes/).waitFor();

  // Both are sent the invitation for their calendars.
  for (const who of [ana, cleo]) {
    const deadline = Date.now() + 15000;
    while (!emailsTo(who.email, 'Meeting with').length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const [email] = emailsTo(who.email, 'Meeting with');
    assert(email && email.includes('text/calendar'), `${who.name} is sent the invitation`);
  }
  await page.reload();
  await heading(page, 'You and Cleo');
  await page.getByText('You both agreed to this.').waitFor();
  await page.getByText(/Saturday, 16 January \d{4} at 7:30/).waitFor();
  await axe(page, 'connection (agreed, meeting scheduled)');
});

test('a check-in is answered with one click from its email, and in the app', async () => {
  const answer = await link(ana.email, '/check-in', 0, 45000);
  await ana.page.goto(answer);
  await heading(ana.page, 'Thank you for answering');
  await axe(ana.page, 'check-in answered');
  await ana.page.goto(answer);
  await heading(ana.page, 'This check-in is already answered');

  await link(cleo.email, '/check-in', 0, 45000);
  const { page } = cleo;
  await page.goto(`${BASE}/connections`);
  await page.getByRole('heading', { name: 'How is it going?' }).waitFor();
  await axe(page, 'connections with a check-in');
  await press(page.getByRole('button', { name: 'Going well' }).first());
  await page.getByText('Thank you. Your answer helps the programme keep connections going.').waitFor();
});

test('a mentor starts a circle; a practitioner finds it, joins, and they talk, meet and share', async () => {
  const domain = 'Falls prevention at home, South Island';
  await cleo.page.goto(`${BASE}/circles`);
  await heading(cleo.page, 'Circles');
  await cleo.page.getByText('You are not in a circle yet.').waitFor();
  await axe(cleo.page, 'circles');
  await fill(cleo.page.getByLabel('What the circle is about'), domain);
  await check(cleo.page.getByLabel('I will facilitate it'));
  await press(cleo.page.getByRole('button', { name: 'Start the circle' }));
  await heading(cleo.page, domain);
  await cleo.page.getByText('You facilitate').first().waitFor();

  const { page } = ana;
  await page.goto(`${BASE}/circles`);
  await heading(page, 'Circles');
  await fill(page.getByLabel("Words in the circle's topic"), 'falls');
  await page.getByLabel('Profession').selectOption({ label: 'Occupational therapy' });
  // Christchurch is about 300 km from Dunedin.
  await page.getByLabel('Distance').selectOption({ label: 'Within 250 km' });
  await press(page.getByRole('button', { name: 'Search circles' }));
  await page.getByText('No circle matches.', { exact: false }).waitFor();
  await page.getByLabel('Distance').selectOption({ label: 'Within 500 km' });
  await press(page.getByRole('button', { name: 'Search circles' }));
  await page.getByText(/about \d+ km away/).waitFor();
  await press(page.getByRole('link', { name: domain }));
  await heading(page, domain);
  assert(!(await page.getByText('Cleo').count()), 'an outsider sees no member names');
  await axe(page, 'circle (outsider)');
  await fill(page.getByLabel('A note to the members (optional)'), 'I do home visits near Dunedin.');
  await press(page.getByRole('button', { name: 'Ask to join' }));
  await page.getByText('Your request to join is waiting for an answer.').waitFor();

  await cleo.page.reload();
  await heading(cleo.page, domain);
  await cleo.page.getByText('I do home visits near Dunedin.').waitFor();
  await axe(cleo.page, 'circle (a request to join)');
  await press(cleo.page.getByRole('button', { name: 'Accept Ana' }));
  await cleo.page.getByRole('link', { name: 'Ana', exact: true }).waitFor();
  await check(cleo.page.getByLabel('This is a case study, with questions for the others'));
  await cleo.page.getByText('Never include anything that could identify a client').waitFor();
  await fill(cleo.page.getByLabel('Title', { exact: true }), 'Two steps at the front door');
  await fill(cleo.page.getByLabel('The case'), 'An older man living alone after a hip replacement. See https://example.org/steps for the layout.');
  await fill(cleo.page.getByLabel('Guiding questions, one per line'), 'What would you assess first?\nWhich funding applies?');
  await press(cleo.page.getByRole('button', { name: 'Post' }));
  await cleo.page.getByRole('heading', { name: 'Two steps at the front door' }).waitFor();
  await cleo.page.getByRole('link', { name: 'https://example.org/steps' }).waitFor();

  await page.reload();
  await heading(page, domain);
  await page.getByRole('heading', { name: 'Two steps at the front door' }).waitFor();
  await page.getByText('Which funding applies?').waitFor();
  await press(page.getByRole('button', { name: 'Show 0 replies' }));
  await fill(page.getByLabel('Your reply'), 'Transfers first, then the entrance.');
  await press(page.getByRole('button', { name: 'Reply', exact: true }));
  await page.getByText('Transfers first, then the entrance.').waitFor();

  const date = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  await fill(page.getByLabel('What it is'), 'First case discussion');
  await fill(page.getByLabel('Date'), date);
  await fill(page.getByLabel(/^Start time in your time zone/), '18:00');
  await press(page.getByRole('button', { name: 'Schedule' }));
  await page.getByText('Scheduled. Everyone is emailed an invitation').waitFor();
  await page.getByRole('heading', { name: 'First case discussion' }).waitFor();
  await page.getByText('(Pacific/Auckland)').first().waitFor();
  await press(page.getByRole('button', { name: 'I will come' }));
  await page.getByText('You are coming.').waitFor();
  const later = new Date(Date.now() + 37 * 86400000).toISOString().slice(0, 10);
  await press(page.getByRole('button', { name: 'Change the time' }));
  await fill(page.getByLabel('New date'), later);
  await fill(page.getByLabel(/^New start time/), '19:30');
  await press(page.getByRole('button', { name: 'Save the change' }));
  await page.getByText(/07:30 pm|19:30/).first().waitFor();

  await fill(page.getByLabel('Link title'), 'Home modification checklist');
  await fill(page.getByLabel('Link', { exact: true }), 'https://example.org/checklist');
  await press(page.getByRole('button', { name: 'Share' }));
  await page.getByRole('link', { name: 'Home modification checklist' }).waitFor();
  await axe(page, 'circle (member)');
  await shot(page, 'circle');
  // A busy circle: twenty newer threads push the case to the second page.
  const circleId = new URL(page.url()).pathname.split('/').pop();
  await cleo.page.evaluate(async (id) => {
    const r = await fetch('/api/v1/auth/session/refresh', { method: 'POST' });
    const { access_token } = await r.json();
    for (let n = 1; n <= 20; n++) {
      await fetch(`/api/v1/circles/${id}/posts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'discussion', title: `News ${n}`, body: `Item ${n}` }),
      });
    }
  }, circleId);
  await page.reload();
  await heading(page, domain);
  await page.getByRole('heading', { name: 'News 20' }).waitFor();
  assert(!(await page.getByRole('heading', { name: 'Two steps at the front door' }).count()), 'the case is on the next page');
  await press(page.getByRole('button', { name: 'Show older threads' }));
  await page.getByRole('heading', { name: 'Two steps at the front door' }).waitFor();
  await page.goto(`${BASE}/circles`);
  await heading(page, 'Circles');
  await page.getByRole('link', { name: domain }).first().waitFor();
  await shot(page, 'circles');
});

test('an admin previews a matching round and sees the figures', async () => {
  admin = await person(browser, 'Admin', { latitude: -41.29, longitude: 174.78 });
  admin.email = process.env.ADMIN_EMAIL;
  await signIn(admin, process.env.ADMIN_PASSWORD);
  await admin.page.goto(`${BASE}/admin`);
  await heading(admin.page, 'Administration');
  await admin.page.getByText('Practitioners', { exact: true }).waitFor();
  await press(admin.page.getByRole('button', { name: 'Preview a round' }));
  await admin.page.getByRole('heading', { name: 'Preview' }).waitFor();
  await admin.page.getByText('1 pairing; 0 without a mentor this time.').waitFor();
  await admin.page.getByText('Ben with Cleo').waitFor();
  await axe(admin.page, 'admin');
  await shot(admin.page, 'admin');
});

test('the admin confirms the round; the mentor declines its request with a reason', async () => {
  await press(admin.page.getByRole('button', { name: 'Confirm and send 1 request' }));
  await admin.page.getByText('Round done: 1 request sent to mentors.').waitFor();
  await axe(admin.page, 'admin (round done)');
  await cleo.page.goto(`${BASE}/connections`);
  const card = cleo.page.locator('article', { has: cleo.page.getByRole('link', { name: 'Ben', exact: true }) });
  await card.getByText('Asks you to mentor them').waitFor();
  await press(card.getByRole('button', { name: 'Decline…' }));
  await choose(card.getByLabel('Why are you declining?'), 'no_capacity');
  await axe(cleo.page, 'decline form');
  await press(card.getByRole('button', { name: 'Decline', exact: true }));
  await card.getByText('Declined').waitFor();
});

test('a practitioner keeps a development log against their regulator and downloads it for an audit', async () => {
  const { page } = ana;
  await page.goto(`${BASE}/log`);
  await heading(page, 'Development log');
  await page.getByText('Choose the requirement you report to').waitFor();
  await choose(page.getByLabel('I report to'), 'otba');
  await press(page.getByRole('button', { name: 'Save' }));
  await page.getByText('Occupational Therapy Board of Australia:').waitFor();
  await page.getByText(/^0 h of 20 h logged/).waitFor();
  await fill(page.getByLabel('Minutes'), '90');
  await choose(page.getByLabel('Kind'), 'course');
  await fill(page.getByLabel('What you did'), 'Falls prevention webinar');
  await fill(page.getByLabel('Reflection (optional)'), 'Check the bathroom first on every home visit.');
  await press(page.getByRole('button', { name: 'Log it' }));
  await page.getByText('Logged.').waitFor();
  await page.getByText(/^1\.5 h of 20 h logged/).waitFor();
  await page.getByText('18.5 more hours to log by', { exact: false }).waitFor();
  await page.getByRole('heading', { level: 3, name: 'Falls prevention webinar' }).waitFor();
  await axe(page, 'development log');
  await shot(page, 'log');
  const [pdf] = await Promise.all([
    page.waitForEvent('download'),
    press(page.getByRole('button', { name: 'Download PDF' })),
  ]);
  assert(pdf.suggestedFilename() === 'development-log.pdf', pdf.suggestedFilename());
  const bytes = readFileSync(await pdf.path());
  assert(bytes.subarray(0, 5).toString() === '%PDF-', 'the download is a PDF');
  assert(bytes.includes('(Falls prevention webinar)'), 'the PDF lists the activity');
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    press(page.getByRole('button', { name: 'Download CSV' })),
  ]);
  const rows = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert(rows.length === 2 && rows[1].includes('Falls prevention webinar'), rows.join(' / '));
  await page.getByText('Downloaded: development-log.csv').waitFor();
});

test('four who work alone ask for a circle; an admin previews a circle round and forms it', async () => {
  const dee = await person(browser, 'Dee', { latitude: -45.86, longitude: 170.5 });
  await signUp(dee);
  await verify(dee);
  await fillProfile(dee);
  for (const p of [ana, ben, cleo, dee]) {
    await p.page.goto(`${BASE}/circles`);
    await heading(p.page, 'Circles');
    await check(p.page.getByLabel('Place me in a circle with people like me'));
    await p.page.getByText('Saved. You will be placed in the next round.').waitFor();
  }
  await axe(dee.page, 'circles (waiting for a round)');
  await admin.page.goto(`${BASE}/admin`);
  await heading(admin.page, 'Administration');
  await admin.page.getByText('Waiting for a circle').waitFor();
  await press(admin.page.getByRole('button', { name: 'Preview a circle round' }));
  await admin.page.getByText('1 circle placing 4; 0 not placed this time.').waitFor();
  await axe(admin.page, 'admin (circle round preview)');
  await press(admin.page.getByRole('button', { name: 'Confirm and form 1 circle' }));
  await admin.page.getByText('Circle round done: 1 circle formed').waitFor();
  await dee.page.goto(`${BASE}/circles`);
  await heading(dee.page, 'Circles');
  await dee.page.getByRole('region', { name: 'Your circles' }).getByRole('link', { name: /^Occupational therapy/ }).waitFor();
  await dee.context.close();
});

test('a request is withdrawn, and a connection ended', async () => {
  await ben.page.goto(`${BASE}/people/${await userId(cleo)}`);
  await heading(ben.page, 'Cleo');
  await press(ben.page.getByRole('button', { name: 'Send request' }));
  await ben.page.getByText('Request sent.').waitFor();
  await ben.page.goto(`${BASE}/connections?direction=outgoing`);
  const pending = ben.page.locator('article', { has: ben.page.getByText('Waiting for an answer') });
  await press(pending.getByRole('button', { name: 'Withdraw request' }));
  await ben.page.locator('article', { has: ben.page.getByText('Withdrawn') }).waitFor();
  await axe(ben.page, 'connections (withdrawn)');

  const { page } = ana;
  await page.goto(`${BASE}/connections?direction=outgoing`);
  const card = page.locator('article', { has: page.getByRole('link', { name: 'Ben', exact: true }) });
  page.once('dialog', (dialog) => dialog.accept());
  await press(card.getByRole('button', { name: 'End connection' }));
  await card.getByText('Ended').waitFor();
  assert(!(await card.getByText(ben.email).count()), 'no contact details once ended');

  // Asking Ben again would be Ana's third request today; the server allows two.
  await page.goto(`${BASE}/people/${await userId(ben)}`);
  await heading(page, 'Ben');
  await press(page.getByRole('button', { name: 'Send request' }));
  await page.getByText('You have sent as many requests as you can today.').waitFor();
  await axe(page, 'public profile (daily limit)');
  await shot(page, 'daily-limit');
});

test('a list that cannot load says so and tries again', async () => {
  const { page } = ana;
  const fault = (route) =>
    route.fulfill({
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'x-simulated': 'fault' },
      body: JSON.stringify({ type: '/problems/unavailable', title: 'Service unavailable', status: 503 }),
    });
  const list = /\/api\/v1\/connections(\?|$)/;
  await page.route(list, fault);
  await page.goto(`${BASE}/connections?direction=outgoing`);
  await heading(page, 'Connections');
  await page.getByRole('alert').getByText('Could not load').waitFor();
  await axe(page, 'connections (cannot load)');
  await page.unroute(list, fault);
  await press(page.getByRole('button', { name: 'Try again' }));
  await page.getByRole('link', { name: 'Cleo', exact: true }).waitFor();
});

async function userId(p) {
  return p.page.evaluate(async () => {
    const r = await fetch('/api/v1/auth/session/refresh', { method: 'POST' });
    const { access_token } = await r.json();
    const me = await fetch('/api/v1/me', { headers: { authorization: `Bearer ${access_token}` } });
    return (await me.json()).user_id;
  });
}

test('the directory, settings and an expired link are plain and accessible', async () => {
  const { page } = ana;
  await page.goto(`${BASE}/directory`);
  await heading(page, 'Directory');
  await choose(page.getByLabel('Profession'), 'occupational_therapy');
  await press(page.getByRole('button', { name: 'Search' }));
  await page.getByRole('link', { name: 'Ben', exact: true }).waitFor();
  await axe(page, 'directory');
  await shot(page, 'directory');
  // Block from a profile; see and undo it in the settings.
  await page.goto(`${BASE}/people/${await userId(cleo)}`);
  await heading(page, 'Cleo');
  await press(page.getByText('Block Cleo'));
  await press(page.getByRole('button', { name: 'Block', exact: true }));
  await page.getByText('Cleo is blocked:').waitFor();
  await page.goto(`${BASE}/settings`);
  await heading(page, 'Settings');
  await check(page.getByLabel('Email me when someone asks to connect'), false);
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await heading(page, 'Settings');
  assert(!(await page.getByLabel('Email me when someone asks to connect').isChecked()), 'the choice is kept');
  await page.getByRole('button', { name: 'Unblock Cleo' }).waitFor();
  await axe(page, 'settings');
  await shot(page, 'settings');
  await press(page.getByRole('button', { name: 'Unblock Cleo' }));
  await page.getByText('Cleo is no longer blocked.').waitFor();
  await page.getByText('You have not blocked anyone.').waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    press(page.getByRole('button', { name: 'Download my data' })),
  ]);
  assert(download.suggestedFilename() === 'alongside-my-data.json', 'the export downloads');
  await page.goto(`${BASE}/verify-email?token=not-a-real-token`);
  await heading(page, 'This link has expired');
  await page.getByText('Your email is already confirmed.').waitFor();
  await page.goto(`${BASE}/no-such-page`);
  await heading(page, 'Page not found');
  await axe(page, 'not found');
});

test('a forgotten password is reset from the emailed link', async () => {
  const { page } = ben;
  await press(page.getByRole('button', { name: 'Sign out' }));
  await heading(page, 'Sign in');
  await page.getByText('You are signed out.').waitFor();
  await axe(page, 'sign in');
  await shot(page, 'sign-in');
  await press(page.getByRole('link', { name: 'Forgot your password?' }));
  await heading(page, 'Reset your password');
  await axe(page, 'forgot password');
  await fill(page.getByLabel('Email'), ben.email);
  await press(page.getByRole('button', { name: 'Email me a link' }));
  await page.getByText('we have emailed it a link').waitFor();
  const url = await link(ben.email, '/reset-password');
  await page.goto(url);
  await heading(page, 'Choose a new password');
  await axe(page, 'reset password');
  await fill(page.getByLabel('New password'), 'short');
  await press(page.getByRole('button', { name: 'Save the new password' }));
  await page.locator('#new_password-error').waitFor();
  await axe(page, 'reset password (field error)');
  await fill(page.getByLabel('New password'), 'a brand new password');
  await press(page.getByRole('button', { name: 'Save the new password' }));
  await page.getByText('Your password is changed.').waitFor();
  ben.password = 'a brand new password';
  await signIn(ben, 'a brand new password');
});

test('a field error from the server appears beside its field', async () => {
  const { page } = ana;
  await page.goto(`${BASE}/profile`);
  await heading(page, 'Your profile');
  await fill(page.getByLabel('Years in practice'), '99');
  for (let i = 0; i < 3; i++) await press(page.getByRole('button', { name: 'Next' }));
  await press(page.getByRole('button', { name: 'Save profile' }));
  await page.getByRole('heading', { level: 2, name: /^Step 1 of 4/ }).waitFor();
  const error = page.locator('#years_experience-error');
  await error.waitFor();
  assert(
    (await page.getByLabel('Years in practice').getAttribute('aria-describedby')).includes('years_experience-error'),
    'the error is tied to its field',
  );
  await axe(page, 'profile (field error)');
});

test('a mentor changes capacity and pauses until a date', async () => {
  const { page } = cleo;
  await page.goto(`${BASE}/mentoring`);
  await heading(page, 'Mentoring');
  await fill(page.getByLabel('How many mentees at a time (1 to 20)'), '3');
  await fill(page.getByLabel('Pause new requests until (optional)'), '2099-01-31');
  await press(page.getByRole('button', { name: 'Save' }));
  await page.getByText('Saved. You are paused until 2099-01-31.').waitFor();
  await axe(page, 'mentoring (paused)');
});

test('an admin suspends a user, whose session then ends', async () => {
  const id = await userId(cleo);
  await admin.page.goto(`${BASE}/admin`);
  await fill(admin.page.getByLabel('User id'), id);
  await press(admin.page.getByRole('button', { name: 'Suspend' }));
  await admin.page.getByText('Suspended.').waitFor();
  await cleo.page.reload();
  await heading(cleo.page, 'Sign in');
  assert(!(await cleo.page.getByRole('navigation', { name: 'Main' }).count()), 'no longer signed in');
});

test('a practitioner deletes their account with their password', async () => {
  const { page } = ben;
  await page.goto(`${BASE}/settings`);
  await heading(page, 'Settings');
  await fill(page.getByLabel('Your password, to confirm'), 'not my password');
  await press(page.getByRole('button', { name: 'Delete my account' }));
  await page.locator('.form-error p, #delete-password-error').first().waitFor();
  await axe(page, 'settings (wrong password)');
  await fill(page.getByLabel('Your password, to confirm'), ben.password);
  await press(page.getByRole('button', { name: 'Delete my account' }));
  await heading(page, 'Find your people in practice');
  await page.getByText('Your account is deleted.').waitFor();
  await page.goto(`${BASE}/sign-in`);
  await fill(page.getByLabel('Email'), ben.email);
  await fill(page.getByLabel('Password'), ben.password);
  await press(page.getByRole('button', { name: 'Sign in' }));
  await page.getByText('The email or password is not correct.').waitFor();
});

test('an admin at a desk: the app at desktop width', async () => {
  const desk = await person(browser, 'Desk', { latitude: -41.29, longitude: 174.78 }, DESKTOP);
  desk.email = process.env.ADMIN_EMAIL;
  await signIn(desk, process.env.ADMIN_PASSWORD);
  await desk.page.goto(`${BASE}/admin`);
  await heading(desk.page, 'Administration');
  await desk.page.getByText('Practitioners', { exact: true }).waitFor();
  await desk.page.getByRole('heading', { name: 'Outcomes' }).waitFor();
  const alone = desk.page.getByRole('row', { name: /With an active connection/ });
  assert(/\d+ \(\d+%\)/.test(await alone.innerText()), 'the share of lone practitioners connected is shown');
  await desk.page.getByRole('row', { name: /Going well [1-9]/ }).waitFor();
  await axe(desk.page, 'admin (desktop)');
  await shot(desk.page, 'desktop-admin');
  await desk.page.goto(`${BASE}/directory`);
  await heading(desk.page, 'Directory');
  await axe(desk.page, 'directory (desktop)');
  await desk.context.close();
});

async function main() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=en-US'],
  });
  const started = Date.now();
  for (const { name, body } of tests) {
    const t = Date.now();
    try {
      await body();
      console.log(`ok    ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures++;
      console.log(`FAIL  ${name}\n      ${String(error?.stack ?? error).split('\n').slice(0, 6).join('\n      ')}`);
      break;
    }
  }
  for (const p of [ana, ben, cleo, admin].filter(Boolean)) {
    if (p.problems.length) {
      failures++;
      console.log(`FAIL  ${p.name}'s browser reported:\n      ${p.problems.join('\n      ')}`);
    }
  }
  await browser.close();
  console.log(
    `web: ${tests.length} journeys, ${failures} failed; axe-core clean on ${checked.size} pages: ${[...checked].join(', ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  process.exit(failures ? 1 : 0);
}

main();
