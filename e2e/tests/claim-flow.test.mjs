// A claim from the unboxing to the decision, as the people involved see it.
// On a phone-sized page with the fake camera, a customer files a claim on
// their delivered order, reads the privacy policy's camera wording before
// the camera is asked for, is told plainly when it is refused, records an
// unboxing video once it is allowed, and sends it. Support, at a desk,
// opens the claim, sees the packing video and the unboxing video side by
// side, and decides a partial refund; the customer's order page then shows
// the decision and its reason. Runs against its own Rust server with the
// file SMS transport, to read the customer's sign-up code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../lib/browser.mjs';
import { codeVideo } from '../lib/media.mjs';
import { startRustServer } from '../lib/rust-server.mjs';
import { apiAs, fileClaim, firstEvidence, moveOrder, register } from '../lib/customer.mjs';

const skip = process.env.CHOTOMONI_E2E_TARGET === 'harness' ? 'the harness has no accounts or claims' : false;
const PHONE = '01711000001'; // the first order's customer (lib/rust-server.mjs)
const PHONE_VIEWPORT = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const REASON = 'The bangles were cracked in the video: half the order refunded';
let server;
let browser;
let api;

before(async () => {
  if (skip) return;
  server = await startRustServer({ env: { CHOTOMONI_SMS_PROVIDER: 'file' } });
  api = apiAs(server);
  // No --use-fake-ui-for-media-stream: each context's granted permissions
  // decide, so the customer can first refuse the camera and then allow it.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${await codeVideo(server.orders[0])}`],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** One tus upload in a single PATCH, as the packer; the proof's id. */
async function uploadProof(token, bytes, metadata) {
  const auth = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' };
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(String(v)).toString('base64')}`).join(',');
  const created = await fetch(`${server.base}/api/v1/uploads/`, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(bytes.length), 'Upload-Metadata': meta },
  });
  assert.equal(created.status, 201, await created.text());
  const done = await fetch(new URL(created.headers.get('location'), server.base), {
    method: 'PATCH',
    headers: { ...auth, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    body: bytes,
  });
  assert.equal(done.status, 204, await done.text());
  return Number(done.headers.get('chotomoni-proof-id'));
}

/** The proof's stored duration, once inspection has read it. */
async function inspectedDuration(id) {
  for (let i = 0; i < 300; i += 1) {
    const proof = await api('GET', `/api/v1/proofs/${id}`);
    if (proof.duration_ms != null) return proof.duration_ms;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`proof ${id} has no duration after 30 s`);
}

/** Waits until the video has data to show and a length, as a player needs. */
async function assertPlayable(video, what) {
  await video.evaluate((v) => { v.muted = true; v.preload = 'auto'; if (v.readyState < 1) v.load(); });
  const state = await video.evaluate((v) => new Promise((resolve) => {
    const check = () => {
      if (v.readyState >= 2 && v.duration > 0) resolve({ readyState: v.readyState, duration: v.duration });
    };
    v.addEventListener('loadeddata', check);
    v.addEventListener('durationchange', check);
    v.addEventListener('error', () => resolve({ error: v.error && v.error.code }));
    check();
    setTimeout(() => resolve({ readyState: v.readyState, duration: v.duration, timedOut: true }), 20000);
  }));
  assert.ok(state.readyState >= 2 && state.duration > 0 && !state.timedOut, `${what} plays: ${JSON.stringify(state)}`);
}

test('a customer records an unboxing video for a claim; support decides a partial refund; the customer reads it', { skip }, async () => {
  const order = server.orders[0];
  const packingFile = path.join(tmpdir(), `cm-e2e-packing-${process.pid}.mp4`);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', packingFile]);
  await moveOrder(server, order, ['confirmed', 'packed']);
  const packing = await uploadProof(server.packer.token, await readFile(packingFile), {
    order, kind: 'packing', filename: `${order}-packing.mp4`, filetype: 'video/mp4', captured_at: new Date().toISOString(),
  });
  await rm(packingFile, { force: true });
  await moveOrder(server, order, ['handed_to_courier', 'delivered']);

  // The customer, on their phone.
  const phone = await browser.newContext({ ...PHONE_VIEWPORT, locale: 'en-GB', timezoneId: 'Asia/Dhaka' });
  // Granting only an unrelated permission refuses the camera and microphone.
  await phone.grantPermissions(['geolocation'], { origin: server.base });
  const page = await phone.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e.stack || e)));
  await register(page, server, PHONE, 'Shapla Akter');
  await fileClaim(page, server, order, { kind: 'damaged', description: 'Two glass bangles arrived cracked' });
  const [claim] = await api('GET', `/api/v1/orders/${order}/claims`);

  // The policy's camera wording comes first; the camera is not asked for yet.
  const recorder = page.locator('section.unboxing');
  await recorder.getByRole('button', { name: 'Record unboxing video' }).click();
  const wording = recorder.locator('blockquote.policy-camera');
  assert.ok(await wording.isVisible(), 'the camera wording is shown');
  assert.match(await wording.innerText(), /To keep proof for orders, our app may use your device camera.*If you deny permission, this feature will not work\./s);
  assert.equal(await recorder.locator('[data-part="preview"]').evaluate((v) => v.srcObject), null, 'no camera before the customer agrees');

  // Refused: said plainly, and choosing a file still works.
  await recorder.getByRole('button', { name: 'Open the camera and record' }).click();
  const denied = recorder.locator('[data-problem="denied"]');
  await denied.waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await denied.innerText(), /camera is not allowed.*choose photos or a video from your files/s);
  assert.ok(await page.locator('form.evidence input[type=file]').isEnabled(), 'the file chooser still works');

  // Allowed (in the browser's settings, say), and tried again.
  await phone.grantPermissions(['camera', 'microphone'], { origin: server.base });
  await recorder.getByRole('button', { name: 'Record unboxing video' }).click();
  await recorder.getByRole('button', { name: 'Open the camera and record' }).click();
  await page.waitForFunction(() => document.querySelector('section.unboxing').dataset.state === 'recording', null, { timeout: 15000 });
  const recordingSince = Date.now();
  assert.ok(await denied.isHidden(), 'the refusal is no longer shown');
  const clock = recorder.locator('[data-part="clock"]');
  assert.match(await clock.innerText(), new RegExp(`Recording ${order}`));
  // It fits the phone: nothing wider than the screen, the stop button in reach.
  const fit = await page.evaluate(() => {
    const v = document.querySelector('[data-part="preview"]').getBoundingClientRect();
    return { scroll: document.documentElement.scrollWidth, width: innerWidth, video: v.width };
  });
  assert.ok(fit.scroll <= fit.width && fit.video > 200 && fit.video <= fit.width, `fits a phone: ${JSON.stringify(fit)}`);
  await page.waitForTimeout(4000);
  assert.match(await clock.innerText(), /0:0[3-5]/, 'the clock runs');
  await recorder.getByRole('button', { name: 'Stop' }).click();
  const recordedMs = Date.now() - recordingSince;
  await page.waitForFunction(() => document.querySelector('section.unboxing').dataset.state === 'review');
  await assertPlayable(recorder.locator('[data-part="playback"]'), 'the recording, played back before sending');
  assert.ok(await recorder.getByRole('button', { name: 'Retake' }).isVisible(), 'a retake is offered');

  await Promise.all([
    page.waitForEvent('load', { timeout: 60000 }),
    recorder.getByRole('button', { name: 'Send this video' }).click(),
  ]);
  const evidence = await firstEvidence(page, `#claim-${claim.id}`);
  const [listed] = await api('GET', `/api/v1/orders/${order}/claims`);
  assert.deepEqual(listed.evidence, [evidence], 'the recording is the claim\'s evidence');
  const stored = await api('GET', `/api/v1/proofs/${evidence}`);
  assert.equal(stored.kind, 'claim');
  assert.match(stored.media_type, /^video\/(mp4|webm)$/);
  const duration = await inspectedDuration(evidence);
  assert.ok(Math.abs(duration - recordedMs) <= 1000, `the stored duration (${duration} ms) is about how long it recorded (${recordedMs} ms)`);

  // Support, at a desk.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Asia/Dhaka' });
  const staff = await desk.newPage();
  await staff.goto(`${server.base}/staff/sign-in?lang=en`);
  await staff.fill('input[name="username"]', server.support.username);
  await staff.fill('input[name="password"]', server.support.password);
  await Promise.all([staff.waitForLoadState('load'), staff.click('form button')]);
  await staff.goto(`${server.base}/staff/claims/${claim.id}?lang=en`);
  const packingVideo = staff.locator(`#proof-${packing} video`);
  const unboxingVideo = staff.locator(`#proof-${evidence} video`);
  await assertPlayable(packingVideo, 'the packing video');
  await assertPlayable(unboxingVideo, 'the unboxing video');
  assert.match(await staff.locator(`#proof-${evidence} figcaption`).innerText(), /customer's evidence/);
  const [a, b] = [await packingVideo.boundingBox(), await unboxingVideo.boundingBox()];
  assert.ok(Math.abs(a.y - b.y) < 5 && a.x + a.width <= b.x, `side by side: packing ${JSON.stringify(a)}, unboxing ${JSON.stringify(b)}`);

  await staff.selectOption('select[name="decision"]', 'partial_refund');
  await staff.fill('input[name="amount"]', '50000');
  await staff.fill('textarea[name="reason"]', REASON);
  await Promise.all([staff.waitForLoadState('load'), staff.click('form[action$="/decision"] button')]);
  assert.match(await staff.locator('#decision').innerText(), /partial refund/);
  await desk.close();

  // The customer's order page tells them.
  await page.reload();
  const decided = await page.locator(`#claim-${claim.id}`).innerText();
  assert.match(decided, /partial refund/, decided);
  assert.match(decided, /Refund: .*500/, decided);
  assert.ok(decided.includes(REASON), decided);
  assert.equal(await page.locator('section.unboxing').count(), 0, 'a decided claim takes no more evidence');
  assert.deepEqual(errors, [], 'no script errors');
  await phone.close();
});
