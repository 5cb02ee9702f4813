// verify.html of a claim pack, opened from disk in Chromium: the page that
// tells a marketplace reviewer, offline, whether the pack's original files
// are the ones the log vouches for. The pack is made by the real Rust code
// (crates/translog/examples/verify_fixture.rs): three files, entries 2, 7
// and 12 of a 13-entry log, and the page rendered for them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../lib/browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const FIXTURE = path.join(TARGET, 'debug', 'examples', 'verify_fixture');
const SIGNED_BY = 'chotomoni.example/proofs';
let dir;
let paths;
let browser;

before(async () => {
  // Built here so the page under test is always the one the current code renders.
  execFileSync('cargo', ['build', '-q', '--example', 'verify_fixture', '-p', 'chotomoni-translog'], { cwd: ROOT, stdio: 'inherit' });
  dir = await mkdtemp(path.join(tmpdir(), 'cm-verify-page-'));
  paths = JSON.parse(execFileSync(FIXTURE, [dir], { encoding: 'utf8' }));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens `html` from disk, failing the test on any request that is not that file. */
async function open(html) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== pathToFileURL(html).href) errors.push(`request to ${r.url()}`); });
  await page.goto(pathToFileURL(html).href);
  return { page, errors };
}

/** Chooses `files` in the page's file input (or a folder in its folder input) and waits for the checks to finish. */
async function choose(page, files, input = '#pick-files') {
  await page.setInputFiles(input, files);
  await page.waitForFunction(() => document.getElementById('summary').dataset.state !== 'checking', null, { timeout: 15000 });
}

async function results(page) {
  const summary = (await page.textContent('#summary')).replace(/\s+/g, ' ');
  const files = await page.$$eval('.file', (els) => els.map((f) => ({
    path: f.dataset.path, state: f.dataset.state, text: f.innerText.replace(/\s+/g, ' '),
  })));
  return { summary, files, byPath: Object.fromEntries(files.map((f) => [f.path, f])) };
}

const originals = () => paths.map((p) => path.join(dir, p));

test('the pack\'s own files verify; one changed byte fails that file only, naming the hash', async () => {
  const { page, errors } = await open(path.join(dir, 'verify.html'));
  let r = await results(page);
  assert.deepEqual(r.files.map((f) => [f.path, f.state]), paths.map((p) => [p, 'unchecked']));
  assert.match(await page.textContent('#log-key'), new RegExp(`^${SIGNED_BY}\\+[0-9a-f]{8}\\+`));
  // The third file's order carries markup and escapes through the page's JSON; it must come out as text.
  assert.ok(r.byPath[paths[2]].text.includes('CM-000123 </script><!-- "x" \\'), r.byPath[paths[2]].text);
  assert.equal(await page.$$eval('script', (s) => s.length), 2, 'no script was injected by the data');

  await choose(page, originals().slice(0, 2));
  r = await results(page);
  assert.deepEqual(r.files.map((f) => f.state), ['verified', 'verified', 'unchecked']);
  assert.match(r.byPath[paths[2]].text, /not chosen/);
  assert.match(r.summary, /1 not checked/);

  await choose(page, originals());
  r = await results(page);
  assert.deepEqual(r.files.map((f) => f.state), ['verified', 'verified', 'verified'], JSON.stringify(r.files, null, 1));
  assert.match(r.summary, /All 3 files verified/);
  assert.match(r.summary, /সব ৩টি ফাইল যাচাই সফল/);

  // Same name and size, one byte different, chosen from another folder.
  const changedDir = path.join(dir, 'changed');
  await mkdir(changedDir);
  const bytes = await readFile(originals()[0]);
  bytes[bytes.length >> 1] ^= 0x01;
  const changed = path.join(changedDir, path.basename(paths[0]));
  await writeFile(changed, bytes);
  await choose(page, [changed, ...originals().slice(1)]);
  r = await results(page);
  assert.deepEqual(r.files.map((f) => f.state), ['failed', 'verified', 'verified']);
  const failure = r.byPath[paths[0]].text;
  assert.match(failure, /FAILED/);
  assert.match(failure, /SHA-256 is [0-9a-f]{64} but the log records [0-9a-f]{64}/);
  assert.match(failure, /যাচাই ব্যর্থ/);
  assert.doesNotMatch(failure, /tree head/, 'only the file is blamed, not the log');
  assert.match(r.summary, /1 of 3 files FAILED/);
  assert.deepEqual(errors, []);
  await page.close();
});

/** The pack's page with `edit` applied, saved as `name`, with all originals chosen in it. */
async function checkEdited(name, edit) {
  const html = await readFile(path.join(dir, 'verify.html'), 'utf8');
  const edited = edit(html);
  assert.notEqual(edited, html, 'the edit found what it changes');
  await writeFile(path.join(dir, name), edited);
  const { page, errors } = await open(path.join(dir, name));
  await choose(page, originals());
  const r = await results(page);
  assert.deepEqual(errors, []);
  await page.close();
  return r;
}

test('a tree head whose signature was altered fails every file', async () => {
  // The signature line is "— <name> <base64>\n"; its 11th base64 digit is past the 4-byte key ID.
  const r = await checkEdited('altered.html', (html) => html.replace(/(— chotomoni\.example\/proofs [A-Za-z0-9+/]{10})([A-Za-z0-9+/])/g,
    (_, head, c) => head + (c === 'A' ? 'B' : 'A')));
  assert.deepEqual(r.files.map((f) => f.state), ['failed', 'failed', 'failed']);
  for (const f of r.files) assert.match(f.text, /signature does not match the log's key/);
  assert.match(r.summary, /3 of 3 files FAILED/);
});

test('a log entry edited in the page no longer leads to the signed tree head', async () => {
  // Only the second file was logged without a capture time; claim one for it.
  const r = await checkEdited('edited.html', (html) => html.replace('"captured_at":null', '"captured_at":"2026-12-02T17:00:00Z"'));
  assert.deepEqual(r.files.map((f) => f.state), ['verified', 'failed', 'verified']);
  assert.match(r.byPath[paths[1]].text, /inclusion proof does not lead to the signed tree head/);
});

test('the page hashes a leaf exactly as the Rust code does', async () => {
  const { page } = await open(path.join(dir, 'verify.html'));
  // crates/translog/src/leaf.rs: leaf_hash_known_answer.
  const hash = await page.evaluate(async () => hex(await leafHash({
    v: 1,
    sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    size: 5,
    media_type: 'image/jpeg',
    order: 'CM-000123',
    kind: 'packing',
    captured_at: '2025-03-01T09:30:00Z',
    received_at: '2025-03-01T09:31:07Z',
    uploader: 'staff:12',
  })));
  assert.equal(hash, '92ec8167751f2b48c15fa2c6c6fb10446aa6d42a23fc6d772c7d815f1373ee43');
  await page.close();
});

test('the whole unzipped folder can be chosen; the pack\'s own path wins over a file of the same name elsewhere', async () => {
  // By now the folder also holds changed/ (a changed copy of the first file) and the pages.
  const { page, errors } = await open(path.join(dir, 'verify.html'));
  await choose(page, dir, '#pick-folder');
  const r = await results(page);
  assert.deepEqual(r.files.map((f) => f.state), ['verified', 'verified', 'verified'], JSON.stringify(r.files, null, 1));
  assert.match(r.summary, /All 3 files verified/);
  assert.match(await page.textContent('#strays'), /Not in this pack, so not checked: .*verify\.html/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file too large for one WebCrypto digest is hashed in pieces to the same SHA-256', async () => {
  // Lengths around the padding's edges (55/56 bytes left in the last block) and across two 8 MiB pieces.
  const lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 9 * 1024 * 1024 + 3];
  const bytesOf = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8)) & 255);
  const { page, errors } = await open(path.join(dir, 'verify.html'));
  const hashes = await page.evaluate(async (lengths) => {
    const bytesOf = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8)) & 255);
    const out = [];
    for (const n of lengths) {
      // -1 makes even an empty file take the piecewise path.
      const whole = hex(await fileSha256(new Blob([bytesOf(n)]), -1));
      // Uneven updates carry part of a block from one update to the next.
      const uneven = new StreamingSha256();
      const bytes = bytesOf(n);
      for (let at = 0; at < Math.min(n, 5000); at += 37) uneven.update(bytes.subarray(at, Math.min(at + 37, n)));
      out.push([whole, n <= 5000 ? hex(uneven.digest()) : whole]);
    }
    return out;
  }, lengths);
  lengths.forEach((n, i) => {
    const expected = createHash('sha256').update(bytesOf(n)).digest('hex');
    assert.deepEqual(hashes[i], [expected, expected], `${n} bytes`);
  });
  assert.deepEqual(errors, []);
  await page.close();
});
