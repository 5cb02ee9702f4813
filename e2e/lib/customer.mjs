// What the claim tests do as the shop's people: support moving an order
// along through the API, and a customer signing up with the code the file
// SMS transport wrote to the outbox and filing a claim from their order page.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The JSON API as `token` (support's unless named); fails the test on an error status. */
export function apiAs(server) {
  return async (method, url, body, token = server.support.token) => {
    const r = await fetch(`${server.base}${url}`, {
      method,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: body && JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The last code sent to the Bangladeshi mobile number `phone` (01…), from `sms-outbox.txt`. */
export async function lastCode(server, phone) {
  const outbox = await readFile(path.join(server.dataDir, 'sms-outbox.txt'), 'utf8');
  const international = `+88${phone}`;
  const line = outbox.trim().split('\n').filter((l) => l.includes(international)).pop() || '';
  const m = /\b(\d{6})\b/.exec(line);
  assert.ok(m, `a code was sent: ${line}`);
  return m[1];
}

/** Registers the customer who placed orders with `phone`, signing `page` in as them. */
export async function register(page, server, phone, name) {
  await page.goto(`${server.base}/account/register?lang=en`);
  await page.fill('input[name="phone"]', phone);
  await Promise.all([page.waitForLoadState('load'), page.click('form button')]);
  await page.fill('input[name="code"]', await lastCode(server, phone));
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', 'a long enough password 7');
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('form button')]);
}

/** Files a claim of `kind` on one of the order's first line from its page. */
export async function fileClaim(page, server, order, { kind, description }) {
  await page.goto(`${server.base}/account/orders/${order}?lang=en`);
  await page.selectOption('select[name="kind"]', kind);
  await page.fill('input[name="qty_1"]', '1');
  await page.fill('textarea[name="description"]', description);
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("File a claim")')]);
}

/** Moves the order through `statuses`, as support. */
export async function moveOrder(server, order, statuses) {
  const api = apiAs(server);
  for (const status of statuses) await api('POST', `/api/v1/orders/${order}/status`, { status });
}

/** The first evidence the claim in `scope` lists on the order page (its proof id), once it is there. */
export async function firstEvidence(page, scope = 'article.claim') {
  const link = page.locator(`${scope} a[href^="#proof-"]`).first();
  await link.waitFor({ timeout: 10000 });
  return Number((await link.getAttribute('href')).replace('#proof-', ''));
}
