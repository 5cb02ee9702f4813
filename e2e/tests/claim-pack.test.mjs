// A claim pack downloaded from the real server and checked offline: support
// files a claim for a delivered order whose packing video a phone's camera
// app wrote (index at the end), makes a courier pack, downloads the ZIP,
// and opens its verify.html from disk in Chromium. Every original is
// verified; after one byte of one original is changed, that file fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../lib/browser.mjs';
import { startRustServer } from '../lib/rust-server.mjs';
import { apiAs } from '../lib/customer.mjs';

const tus = createRequire(import.meta.url)('tus-js-client');
const skip = process.env.CHOTOMONI_E2E_TARGET === 'harness' ? 'the harness has no claims' : false;
let server;
let browser;
let dir;

before(async () => {
  if (skip) return;
  server = await startRustServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  dir = await mkdtemp(path.join(tmpdir(), 'cm-claim-pack-'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function upload(file, order) {
  return new Promise((resolve, reject) => {
    let proof = null;
    new tus.Upload(file, {
      endpoint: `${server.base}/api/v1/uploads/`,
      retryDelays: null,
      storeFingerprintForResuming: false,
      headers: { authorization: `Bearer ${server.packer.token}` },
      metadata: { order, kind: 'packing', filename: 'packing.mp4', filetype: 'video/mp4' },
      onAfterResponse(_req, res) { proof = res.getHeader('chotomoni-proof-id') ?? proof; },
      onError: reject,
      onSuccess: () => resolve(Number(proof)),
    }).start();
  });
}

async function until(what, check) {
  for (let i = 0; i < 600; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} did not happen in 60 s`);
}

async function choose(page, files) {
  await page.setInputFiles('#pick-files', files);
  await page.waitForFunction(() => document.getElementById('summary').dataset.state !== 'checking', null, { timeout: 20000 });
  return page.$$eval('.file', (els) => els.map((f) => [f.dataset.path, f.dataset.state, f.innerText.replace(/\s+/g, ' ')]));
}

test('verify.html from a downloaded claim pack verifies its originals, and fails one changed byte', { skip }, async () => {
  const api = apiAs(server);
  const order = server.orders[0];
  for (const status of ['confirmed', 'packed']) await api('POST', `/api/v1/orders/${order}/status`, { status });
  const video = path.join(dir, 'camera.mp4');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', video]);
  const recorded = await readFile(video);
  const proof = await upload(recorded, order);
  for (const status of ['handed_to_courier', 'delivered']) await api('POST', `/api/v1/orders/${order}/status`, { status });
  await until('the inspection', async () => (await api('GET', `/api/v1/proofs/${proof}`)).duration_ms);
  const claim = await api('POST', `/api/v1/orders/${order}/claims`,
    { kind: 'damaged', items: [{ line_no: 1, quantity: 1 }], raised_by: 'courier', reference: 'SF-12345' });
  const made = await api('POST', `/api/v1/claims/${claim.id}/packs`, { purpose: 'courier_claim', excerpts: [{ proof, start_ms: 1000 }] });
  await until('the pack', async () => (await api('GET', `/api/v1/claims/${claim.id}/packs`)).find((p) => p.id === made.id && p.status === 'ready'));

  // The recipient's link, without signing in.
  const r = await fetch(`${server.base}/share/packs/${made.token}`);
  assert.equal(r.status, 200);
  await writeFile(path.join(dir, 'pack.zip'), Buffer.from(await r.arrayBuffer()));
  const unpacked = path.join(dir, 'pack');
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(dir, 'pack.zip'), unpacked]);
  const originals = (await readdir(path.join(unpacked, 'originals'))).map((f) => path.join(unpacked, 'originals', f));
  assert.equal(originals.length, 1);
  assert.ok((await readFile(originals[0])).equals(recorded), 'the original is byte-identical');

  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (q) => { if (!q.url().startsWith('file:')) errors.push(`request to ${q.url()}`); });
  await page.goto(pathToFileURL(path.join(unpacked, 'verify.html')).href);
  let files = await choose(page, originals);
  assert.deepEqual(files.map(([p, state]) => [p, state]), [[`originals/${path.basename(originals[0])}`, 'verified']]);
  assert.match(await page.textContent('#summary'), /All 1 files? verified/);

  const changed = Buffer.from(recorded);
  changed[changed.length >> 1] ^= 0x01;
  await writeFile(originals[0], changed);
  await page.reload();
  files = await choose(page, originals);
  assert.equal(files[0][1], 'failed', files[0][2]);
  assert.match(files[0][2], /SHA-256/);
  assert.doesNotMatch(await page.textContent('#summary'), /All .* verified/);
  assert.deepEqual(errors, []);
});
