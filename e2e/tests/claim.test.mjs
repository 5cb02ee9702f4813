// A customer's claim in a phone-sized browser: they register with the code
// sent to the number their order was placed with, file a claim on the
// delivered order from its page, choose an unboxing video from their files,
// and it arrives (tus, kind `claim`) as the claim's evidence. Runs against
// its own Rust server with the file SMS transport, to read the code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../lib/browser.mjs';
import { startRustServer } from '../lib/rust-server.mjs';
import { apiAs, fileClaim, firstEvidence, moveOrder, register } from '../lib/customer.mjs';

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

test('a customer files a claim and sends an unboxing video from their phone', { skip }, async () => {
  const order = server.orders[0];
  const api = apiAs(server);
  await moveOrder(server, order, ['confirmed', 'packed', 'handed_to_courier', 'delivered']);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'en-GB' });
  const page = await context.newPage();

  await register(page, server, PHONE, 'Shapla Akter');
  await fileClaim(page, server, order, { kind: 'damaged', description: 'One bangle arrived broken' });
  assert.match(await page.textContent('#claims ~ article.claim, article.claim'), /One bangle arrived broken/);

  const video = path.join(tmpdir(), `cm-e2e-unboxing-${process.pid}.mp4`);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', video]);
  await page.setInputFiles('form.evidence input[type=file]', video);
  await Promise.all([
    page.waitForEvent('load', { timeout: 30000 }),
    page.click('form.evidence button'),
  ]);
  const proof = await firstEvidence(page);

  const [claim] = await api('GET', `/api/v1/orders/${order}/claims`);
  assert.deepEqual(claim.evidence, [proof], 'the video is the claim\'s evidence');
  const stored = await api('GET', `/api/v1/proofs/${proof}`);
  assert.equal(stored.kind, 'claim');
  assert.equal(stored.media_type, 'video/mp4');
  await context.close();
  await rm(video, { force: true });
});
