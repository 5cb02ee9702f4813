// The station is for signed-in staff: a browser without a session is sent to
// the staff sign-in, and signing in there brings it back to the station,
// which then works with the session cookie (the real server only: the
// harness has no sign-in).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, TARGET, ORDER } from '../lib/target.mjs';
import { openStation, waitFor } from '../lib/browser.mjs';

const skip = TARGET === 'harness' ? 'the harness has no sign-in' : false;
let target;
let station;

before(async () => {
  if (skip) return;
  target = await startTarget();
  station = await openStation({ ...target, cookies: [] }, { lang: 'en', fakeUi: true });
});

after(async () => {
  await station?.close();
  await target?.close();
});

test('a stranger signs in and comes back to the station', { skip }, async (t) => {
  if (!target.packer) return t.skip('no packer password (CHOTOMONI_E2E_USER, CHOTOMONI_E2E_PASSWORD)');
  const { page } = station;
  const at = new URL(page.url());
  assert.equal(at.pathname, '/staff/sign-in', `sent to the staff sign-in: ${page.url()}`);
  assert.equal(at.searchParams.get('next'), '/station');
  assert.equal(await page.locator('input[name="next"]').inputValue(), '/station');
  await page.fill('input[name="username"]', target.packer.username);
  await page.fill('input[name="password"]', target.packer.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/station'), page.click('form button')]);
  await waitFor(station, 'the station to start', () => document.body.dataset.ready === 'true');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en', 'the language chosen before signing in');
  await page.fill('#entry-input', ORDER);
  await page.press('#entry-input', 'Enter');
  await waitFor(station, `${ORDER} looked up with the new session`, (n) => {
    const o = document.getElementById('order');
    return o.dataset.state === 'ok' && o.dataset.number === n;
  }, ORDER);
  const cookies = await station.context.cookies(target.base);
  const session = cookies.find((c) => c.name === 'cm_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Lax', `one HttpOnly, SameSite=Lax session cookie: ${JSON.stringify(cookies)}`);
});
