// A customer's claim in a phone-sized browser: they register with the code
// sent to the number their order was placed with, file a claim on the
// delivered order from its page, choose an unboxing video from their files,
// and it arrives (tus, kind `claim`) as the claim's evidence. Runs against
// its own Rust server with the file SMS transport, to read the code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../lib/browser.mjs';
import { startRustServer } from '../lib/rust-server.mjs';

const skip = process.env.CHOTOMONI_E2E_TARGET === 'harness' ? 'the harness has no accounts or claims' : false;
const PHONE = '01711000001'; // the first order's customer (lib/rust-server.mjs)
let server;
let browser;

before(async () => {
  if (skip) return;
  server = await startRustServer({ env: { CHOTOMONI_SMS_PROVIDER: 'file' } });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function api(method, url, body) {
  const r = await fetch(`${server.base}${url}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.support.token}` },
    body: body && JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function lastCode() {
  const outbox = await readFile(path.join(server.dataDir, 'sms-outbox.txt'), 'utf8');
  const line = outbox.trim().split('\n').filter((l) => l.includes('+8801711000001')).pop() || '';
  const m = /\b(\d{6})\b/.exec(line);
  assert.ok(m, `a code was sent: ${line}`);
  return m[1];
}

test('a customer files a claim and sends an unboxing video from their phone', { skip }, async () => {
  const order = server.orders[0];
  for (const status of ['confirmed', 'packed', 'handed_to_courier', 'delivered']) {
    await api('POST', `/api/v1/orders/${order}/status`, { status });
  }
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'en-GB' });
  const page = await context.newPage();

  await page.goto(`${server.base}/account/register?lang=en`);
  await page.fill('input[name="phone"]', PHONE);
  await Promise.all([page.waitForLoadState('load'), page.click('form button')]);
  await page.fill('input[name="code"]', await lastCode());
  await page.fill('input[name="name"]', 'Shapla Akter');
  await page.fill('input[name="password"]', 'a long enough password 7');
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('form button')]);

  await page.goto(`${server.base}/account/orders/${order}?lang=en`);
  await page.selectOption('select[name="kind"]', 'damaged');
  await page.fill('input[name="qty_1"]', '1');
  await page.fill('textarea[name="description"]', 'One bangle arrived broken');
  await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("File a claim")')]);
  assert.match(await page.textContent('#claims ~ article.claim, article.claim'), /One bangle arrived broken/);

  const video = path.join(tmpdir(), `cm-e2e-unboxing-${process.pid}.mp4`);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', video]);
  await page.setInputFiles('form.evidence input[type=file]', video);
  await Promise.all([
    page.waitForEvent('load', { timeout: 30000 }),
    page.click('form.evidence button'),
  ]);
  const link = page.locator('article.claim a[href^="#proof-"]');
  await link.first().waitFor({ timeout: 10000 });
  const proof = Number((await link.first().getAttribute('href')).replace('#proof-', ''));

  const [claim] = await api('GET', `/api/v1/orders/${order}/claims`);
  assert.deepEqual(claim.evidence, [proof], 'the video is the claim\'s evidence');
  const stored = await api('GET', `/api/v1/proofs/${proof}`);
  assert.equal(stored.kind, 'claim');
  assert.equal(stored.media_type, 'video/mp4');
  await context.close();
  await rm(video, { force: true });
});
