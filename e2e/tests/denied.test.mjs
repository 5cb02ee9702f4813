// Camera and microphone refused: the station says, in the page's language,
// that proof capture needs them, and everything else still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, ORDER } from '../lib/target.mjs';
import { openStation, waitFor } from '../lib/browser.mjs';

let target;
let station;

before(async () => {
  target = await startTarget();
  // No --use-fake-ui-for-media-stream, and camera/microphone not granted.
  station = await openStation(target, { fakeUi: false, grant: false, lang: 'bn' });
});

after(async () => {
  await station?.close();
  await target?.close();
});

test('a refused camera shows the Bangla message; typing an order number still works', async () => {
  const { page } = station;
  await waitFor(station, 'the camera-denied message', () => {
    const p = document.getElementById('camera-msg');
    return !p.hidden && p.dataset.problem === 'station-camera-denied';
  });
  const message = page.locator('#camera-msg');
  assert.ok(await message.isVisible(), 'the message is visible');
  assert.equal(await message.getAttribute('role'), 'alert', 'the message is announced');
  const text = await message.innerText();
  assert.equal(text, await station.text('station-camera-denied'), 'the message is the page\'s own text for it');
  assert.match(text, /ক্যামেরা ও মাইক্রোফোন/, `the message names the camera and microphone in Bangla: ${text}`);
  assert.ok(await page.locator('#camera-retry').isVisible(), 'a way to try the camera again');
  assert.ok(await page.locator('#record').isDisabled(), 'recording is off without a camera');

  await page.fill('#entry-input', ORDER.toLowerCase());
  await page.press('#entry-input', 'Enter');
  await waitFor(station, `the order ${ORDER} after typing it`, (n) => {
    const o = document.getElementById('order');
    return o.dataset.state === 'ok' && o.dataset.number === n;
  }, ORDER);
  const expected = await target.lookup(ORDER);
  const shown = await page.locator('#order').innerText();
  for (const item of expected.items) assert.ok(shown.includes(item.name), `shows "${item.name}":\n${shown}`);
  assert.match(shown, /× [০-৯]+/, `quantities in Bangla digits:\n${shown}`);
  assert.equal(await page.evaluate(() => document.body.dataset.recording), '', 'nothing is being recorded');

  // An unknown order says so, in Bangla.
  await page.fill('#entry-input', 'CM-999999');
  await page.press('#entry-input', 'Enter');
  await waitFor(station, 'the not-found message', () => document.getElementById('order').dataset.state === 'not-found');
  assert.match(await page.locator('#order').innerText(), /CM-999999/);
  assert.ok(!station.console.some((l) => l.startsWith('[pageerror]')), `no script errors:\n${station.console.join('\n')}`);
});
