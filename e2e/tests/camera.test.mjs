// The camera path: the fake camera shows CM-000123 as QR and Code128; the
// station must read it (zxing where there is no BarcodeDetector), show the
// order, record video with sound stamped with the order, queue it when
// stopped, and upload it with tus so the server holds the same bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTarget, assertStored, ORDER } from '../lib/target.mjs';
import { openStation, waitFor, queueItems } from '../lib/browser.mjs';
import { codeVideo, probe } from '../lib/media.mjs';

let target;
let station;
let expected;
// When the test saw the station start recording, to tell how long it recorded.
let recordingSeenAt;

before(async () => {
  target = await startTarget();
  expected = await target.lookup(ORDER);
  station = await openStation(target, { video: await codeVideo(ORDER), lang: 'en' });
});

after(async () => {
  await station?.close();
  await target?.close();
});

async function checkUploaded(item, { video }) {
  const { bytes, metadata, proof } = await assertStored(target, station, item);
  if (metadata) {
    assert.equal(metadata.order, ORDER);
    assert.equal(metadata.kind, 'packing');
    assert.match(metadata.captured_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/, 'captured_at is RFC 3339');
    assert.match(metadata.filename, new RegExp(`^${ORDER}-packing-.+\\.(mp4|webm|jpg)$`));
    assert.match(metadata.filetype, video ? /^video\/(mp4|webm)$/ : /^image\/jpeg$/);
  }
  if (proof) {
    // What the Rust server made of it: the proof API's description.
    assert.equal(proof.kind, 'packing');
    assert.match(proof.media_type, video ? /^video\/(mp4|webm)$/ : /^image\/jpeg$/, JSON.stringify(proof));
    assert.ok(proof.captured_at && Math.abs(Date.parse(proof.captured_at) - Date.now()) < 10 * 60 * 1000, `captured_at is the device's recent time: ${proof.captured_at}`);
    assert.match(proof.uploader, /^staff:\d+$/, 'the uploader is named by reference');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'cm-proof-'));
  const file = path.join(dir, video ? 'proof.bin' : 'proof.jpg');
  await writeFile(file, bytes);
  const info = await probe(file);
  const kinds = info.streams.map((s) => s.codec_type);
  if (video) {
    assert.ok(kinds.includes('video'), `ffprobe finds a video stream in ${file}: ${JSON.stringify(info)}`);
    assert.ok(kinds.includes('audio'), `ffprobe finds an audio stream in ${file}: ${JSON.stringify(info)}`);
    assert.match(info.format, /mp4|matroska|webm/, `a real MP4 or WebM: ${JSON.stringify(info)}`);
  } else {
    assert.equal(info.streams[0]?.codec_name, 'mjpeg', `a JPEG: ${JSON.stringify(info)}`);
  }
  return { info, proof };
}

test('the camera reads the slip (zxing), shows the order and starts recording', async () => {
  const { page } = station;
  await waitFor(station, `the order ${ORDER} read by the camera`, (n) => {
    const o = document.getElementById('order');
    return o.dataset.state === 'ok' && o.dataset.number === n;
  }, ORDER, 30000);
  const body = await page.evaluate(() => ({ ...document.body.dataset, native: 'BarcodeDetector' in self }));
  assert.equal(body.lastSource, 'camera', 'the order came from the camera');
  if (!body.native) assert.equal(body.scanner, 'zxing', 'without BarcodeDetector the zxing decoder runs');
  const shown = await page.locator('#order').innerText();
  for (const item of expected.items) {
    assert.ok(shown.includes(item.name), `the order view shows the item "${item.name}"; it shows:\n${shown}`);
  }
  if (expected.delivery_instructions) assert.ok(shown.includes(expected.delivery_instructions), 'delivery instructions are shown');
  await waitFor(station, 'a recording of the order', (n) => document.body.dataset.recording === n
    && [...document.querySelectorAll('#queue li')].some((li) => li.dataset.state === 'recording'), ORDER);
  recordingSeenAt = Date.now();
});

test('stop queues the recording; it and a photo upload intact', async () => {
  const { page } = station;
  // Record a few seconds, and take a photo on the way: over 5 s in all,
  // longer than the part of a live-written recording ffprobe analyses, so
  // a duration read from that part alone would show.
  await page.waitForTimeout(5000);
  const during = (await queueItems(page)).find((i) => i.state === 'recording');
  assert.ok(Number(during?.size) > 1000, `recorded data reaches IndexedDB while recording, not only at the end: ${JSON.stringify(during)}`);
  await page.click('#photo');
  await page.waitForTimeout(1000);
  await page.click('#record');
  await waitFor(station, 'the recording to stop', () => document.body.dataset.recording === '');
  const recordedMs = Date.now() - recordingSeenAt;
  // The camera still sees the same slip: that must not start another recording.
  await page.waitForTimeout(1500);
  const items = await queueItems(page);
  assert.equal(items.filter((i) => i.media === 'video').length, 1, `one video, not restarted by the same slip: ${JSON.stringify(items)}`);
  await waitFor(station, 'both proofs uploaded', () => {
    const lis = [...document.querySelectorAll('#queue li')];
    return lis.length === 2 && lis.every((li) => li.dataset.state === 'done');
  }, undefined, 60000);
  const done = await queueItems(page);
  const video = done.find((i) => i.media === 'video');
  const photo = done.find((i) => i.media === 'photo');
  const { info, proof } = await checkUploaded(video, { video: true });
  assert.ok(info.duration > 2 || Number.isNaN(info.duration), `the video lasts a few seconds: ${info.duration}`);
  if (proof) {
    // What a packer settling a claim reads: as long as the station recorded.
    const { duration_ms: stored } = await target.inspected(proof.id);
    assert.ok(Math.abs(stored - recordedMs) <= 500, `the stored duration (${stored} ms) is how long the station recorded (about ${recordedMs} ms)`);
  }
  await checkUploaded(photo, { video: false });
  // Uploaded media is removed from IndexedDB; the record stays listed.
  const left = await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('chotomoni-station');
    open.onsuccess = () => {
      const r = open.result.transaction('chunks').objectStore('chunks').count();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    };
  }));
  assert.equal(left, 0, 'no media left in IndexedDB after the uploads');
});
