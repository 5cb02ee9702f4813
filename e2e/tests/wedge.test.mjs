// A USB barcode scanner types the order number and Enter, fast, anywhere on
// the page; scanning the next order ends the recording and starts the next,
// hands-free. Also: the app shell opens offline and the app is installable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, assertStored, ORDER, NEXT, MISSING } from '../lib/target.mjs';
import { openStation, waitFor, queueItems } from '../lib/browser.mjs';

let target;
let station;

before(async () => {
  target = await startTarget();
  // Chromium's own fake camera picture: no barcode in view.
  station = await openStation(target, { lang: 'en' });
});

after(async () => {
  await station?.close();
  await target?.close();
});

test('a keyboard-wedge scan selects the order and records; the next scan switches, hands-free', async () => {
  const { page } = station;
  await waitFor(station, 'the station to start', () => document.body.dataset.ready === 'true' && document.body.dataset.camera === 'on');
  assert.ok(await page.isChecked('#auto-record'), 'recording starts on a scan by default');

  await page.keyboard.type(`${ORDER.toLowerCase()}\n`);
  await waitFor(station, `${ORDER} from the wedge, recording`, (n) => {
    const o = document.getElementById('order');
    return o.dataset.state === 'ok' && o.dataset.number === n && document.body.dataset.lastSource === 'wedge'
      && document.body.dataset.recording === n;
  }, ORDER);
  assert.equal(await page.inputValue('#entry-input'), '', 'nothing was typed into the order field');
  await page.waitForTimeout(1500);

  // A person typing slowly on the page is not a scanner.
  await page.keyboard.type(MISSING, { delay: 150 });
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => document.body.dataset.recording), ORDER, 'slow typing changed nothing');

  // The next slip: the first recording is queued, the next one starts.
  await page.keyboard.type(`${NEXT}\n`);
  await waitFor(station, `${NEXT} recording`, (n) => document.body.dataset.recording === n, NEXT);
  await waitFor(station, `the ${ORDER} video queued`, (n) => [...document.querySelectorAll('#queue li')]
    .some((li) => li.dataset.order === n && li.dataset.state !== 'recording'), ORDER);

  // The scanner's Enter must not press a focused button (here: take photo).
  await page.waitForTimeout(1000);
  await page.focus('#photo');
  await page.keyboard.type(`${NEXT}\n`);
  await page.waitForTimeout(500);
  const items = await queueItems(page);
  assert.ok(!items.some((i) => i.media === 'photo'), `Enter did not press the focused photo button: ${JSON.stringify(items)}`);
  assert.equal(await page.evaluate(() => document.body.dataset.recording), NEXT, 'scanning the order being recorded changes nothing');

  // An unknown order ends the recording and starts none.
  await page.keyboard.type(`${MISSING}\n`);
  await waitFor(station, 'the not-found message', () => document.getElementById('order').dataset.state === 'not-found');
  await waitFor(station, 'no recording', () => document.body.dataset.recording === '');
  assert.ok(await page.isDisabled('#record'), 'nothing to record for an unknown order');

  await waitFor(station, 'both videos uploaded', () => {
    const lis = [...document.querySelectorAll('#queue li')];
    return lis.length === 2 && lis.every((li) => li.dataset.state === 'done');
  }, undefined, 30000);
  const done = await queueItems(page);
  assert.deepEqual(done.map((i) => i.order).sort(), [ORDER, NEXT].sort());
  for (const it of done) await assertStored(target, station, it, `the ${it.order} video`);
});

test('the app shell opens offline, and the app is installable', async () => {
  const { page, context } = station;
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload(); // now controlled by the service worker
  await waitFor(station, 'a service worker controlling the page', () => Boolean(navigator.serviceWorker.controller));
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, [], 'Chromium finds nothing against installing the station');
  const { errors, data } = await cdp.send('Page.getAppManifest');
  assert.deepEqual(errors, [], 'the manifest parses');
  const manifest = JSON.parse(data);
  assert.equal(manifest.display, 'standalone');
  assert.equal(new URL(manifest.start_url, target.base).pathname, '/station');

  await context.setOffline(true);
  try {
    await page.reload();
    await waitFor(station, 'the station to open offline', () => document.body.dataset.ready === 'true');
    assert.equal(await page.title(), await station.text('station-title'));
    await page.fill('#entry-input', ORDER);
    await page.press('#entry-input', 'Enter');
    await waitFor(station, 'the offline look-up message', () => document.getElementById('order').dataset.state === 'offline');
  } finally {
    await context.setOffline(false);
  }
});
