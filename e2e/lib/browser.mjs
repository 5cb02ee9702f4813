// Debian's Chromium driven by playwright-core, with a fake camera.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Opens /station of `target` in a new Chromium with an empty profile.
 *   video: Y4M file for the fake camera (else Chromium's own fake picture)
 *   fakeUi: auto-accept camera/microphone prompts (--use-fake-ui-for-media-stream)
 *   grant: grant camera and microphone; false denies them
 *   config: merged into the page's config block (by rewriting the /station response)
 */
export async function openStation(target, { video, fakeUi = true, grant = true, lang = 'en', config = null } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'cm-chromium-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream',
  ];
  if (fakeUi) args.push('--use-fake-ui-for-media-stream');
  if (video) args.push(`--use-file-for-fake-video-capture=${video}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1100, height: 1000 },
    locale: lang === 'bn' ? 'bn-BD' : 'en-GB',
    timezoneId: 'Asia/Dhaka',
  });
  if (target.cookies.length) await context.addCookies(target.cookies);
  // Granting only an unrelated permission rejects all others, camera and microphone included.
  await context.grantPermissions(grant ? ['camera', 'microphone'] : ['geolocation'], { origin: target.base });
  if (config) {
    await context.route((url) => url.pathname === '/station', async (route) => {
      const res = await route.fetch();
      let html = await res.text();
      html = html.replace(/(<script type="application\/json" id="station-config">)([\s\S]*?)(<\/script>)/, (_, a, json, c) => {
        const merged = { ...JSON.parse(json), ...config };
        return a + JSON.stringify(merged).replace(/</g, '\\u003c') + c;
      });
      await route.fulfill({ response: res, body: html });
    });
  }
  const page = context.pages()[0] || (await context.newPage());
  const console_ = [];
  page.on('console', (m) => console_.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`[pageerror] ${e.stack || e}`));
  // The tus requests the page made, with the server's answers: status,
  // Upload-Offset (resOffset), Tus-Resumable (tus) and Chotomoni-Proof-Id.
  const uploads = [];
  const proofIds = new Map(); // upload URL → the proof id named by the PATCH that completed it
  page.on('response', (res) => {
    const id = res.headers()['chotomoni-proof-id'];
    if (id && res.url().includes('/api/v1/uploads')) proofIds.set(res.url(), id);
  });
  page.on('requestfinished', async (req) => {
    if (!req.url().includes('/api/v1/uploads')) return;
    const res = await req.response().catch(() => null);
    const h = res ? res.headers() : {};
    uploads.push({
      method: req.method(), url: req.url(), uploadOffset: req.headers()['upload-offset'] ?? null, status: res ? res.status() : null,
      resOffset: h['upload-offset'] ?? null, tus: h['tus-resumable'] ?? null, proofId: h['chotomoni-proof-id'] ?? null,
    });
  });
  page.on('requestfailed', (req) => {
    if (!req.url().includes('/api/v1/uploads')) return;
    uploads.push({ method: req.method(), url: req.url(), uploadOffset: req.headers()['upload-offset'] ?? null, status: 'failed', error: req.failure()?.errorText });
  });
  await page.goto(`${target.base}/station?lang=${lang}`);
  return {
    context,
    page,
    console: console_,
    uploads,
    proofIds,
    /** The page's own text for a message id (from its config block). */
    text: (id) => page.evaluate((k) => JSON.parse(document.getElementById('station-config').textContent).strings[k], id),
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true }).catch(() => {});
    },
  };
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** Waits for fn() in the page to be truthy, failing with `what` and the page's console. */
export async function waitFor(station, what, fn, arg, timeout = 20000) {
  try {
    return await station.page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await station.page.evaluate(() => ({
      body: { ...document.body.dataset },
      order: document.getElementById('order')?.dataset.state,
      cameraMsg: document.getElementById('camera-msg')?.textContent,
      notice: document.getElementById('notice')?.textContent,
      queue: [...document.querySelectorAll('#queue li')].map((li) => ({ ...li.dataset, text: li.innerText.replace(/\s+/g, ' ') })),
    })).catch(() => ({}));
    throw new Error(`timed out after ${timeout} ms waiting for ${what}\npage state: ${JSON.stringify(state, null, 1)}\nconsole:\n${station.console.slice(-30).join('\n')}`);
  }
}

/** The queue items as the page shows them. */
export function queueItems(page) {
  return page.$$eval('#queue li', (lis) => lis.map((li) => ({ ...li.dataset, text: li.innerText.replace(/\s+/g, ' ').trim() })));
}
