// The packing station: scan an order, see what to pack, record proof, and
// let the queue upload it in the background.

import { loadConfig, makeT, applyStrings } from './i18n.js';
import { Store, proofRecord } from './store.js';
import { UploadQueue } from './queue.js';
import { CameraScanner, listenForWedge, orderNumberFrom } from './scanner.js';
import {
  openCamera, cameraProblem, Recording, takePhoto, pickVideoType, baseType,
} from './recorder.js';
import { renderOrder, renderQueue, formatDuration } from './ui.js';

const config = loadConfig();
const t = makeT(config);
const lang = config.lang === 'en' ? 'en' : 'bn';
const $ = (id) => document.getElementById(id);

/** How long the camera must lose sight of a code before the same code counts again. */
const SAME_CODE_QUIET_MS = 3000;
const KINDS = ['packing', 'delivery', 'return'];

const state = {
  camera: null, // { stream, audio }
  store: null,
  queue: null,
  order: { state: 'none' },
  orderNumber: null, // the order being worked on (known even when its lookup failed)
  lookupSeq: 0,
  recording: null, // { id, number, startedAt, rec, writes, release }
  busy: Promise.resolve(), // serialises start/stop
  lastCamera: { number: null, at: 0 },
  wakeLock: null,
};

function setupPage() {
  document.documentElement.lang = lang;
  document.title = t('station-title');
  applyStrings(document.body, t);
  const other = lang === 'bn' ? 'en' : 'bn';
  const sw = $('lang-switch');
  const url = new URL(location.href);
  url.searchParams.set('lang', other);
  sw.href = url.pathname + url.search;
  sw.hreflang = other;
  sw.lang = other;

  const kind = localStorage.getItem('station.kind');
  if (KINDS.includes(kind)) {
    const input = document.querySelector(`input[name="kind"][value="${kind}"]`);
    if (input) input.checked = true;
  }
  for (const input of document.querySelectorAll('input[name="kind"]')) {
    input.addEventListener('change', () => localStorage.setItem('station.kind', currentKind()));
  }
  const auto = $('auto-record');
  auto.checked = localStorage.getItem('station.autoRecord') !== 'off';
  auto.addEventListener('change', () => localStorage.setItem('station.autoRecord', auto.checked ? 'on' : 'off'));

  const net = () => {
    $('net').textContent = t(navigator.onLine ? 'station-online' : 'station-offline');
    $('net').dataset.online = String(navigator.onLine);
  };
  addEventListener('online', net);
  addEventListener('offline', net);
  net();
}

function currentKind() {
  const checked = document.querySelector('input[name="kind"]:checked');
  return checked && KINDS.includes(checked.value) ? checked.value : 'packing';
}

// ---- messages --------------------------------------------------------------

function showCameraMessage(key, args, tone = 'error') {
  const p = $('camera-msg');
  if (!key) {
    p.hidden = true;
    p.textContent = '';
    delete p.dataset.problem;
    return;
  }
  p.hidden = false;
  p.className = `msg ${tone}`;
  p.dataset.problem = key;
  p.textContent = t(key, args);
}

/** Tells screen readers what just happened (the badge and the queue change too often to be live). */
function announce(text) {
  const live = $('announce');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

function showNotice(key, args) {
  const p = $('notice');
  p.hidden = !key;
  p.textContent = key ? t(key, args) : '';
}

// ---- camera ----------------------------------------------------------------

async function startCamera() {
  const video = $('preview');
  $('camera-retry').hidden = true;
  showCameraMessage('station-camera-starting', {}, 'info');
  document.body.dataset.camera = 'starting';
  try {
    const cam = await openCamera(video, config.video);
    state.camera = cam;
    document.body.dataset.camera = 'on';
    $('viewfinder').hidden = false;
    if (cam.audio) showCameraMessage(null);
    else showCameraMessage('station-mic-unavailable', {}, 'warn');
    for (const track of cam.stream.getTracks()) {
      track.addEventListener('ended', () => cameraLost());
    }
  } catch (err) {
    console.warn('station: camera', err);
    state.camera = null;
    document.body.dataset.camera = 'off';
    $('viewfinder').hidden = true;
    const problem = cameraProblem(err);
    showCameraMessage(`station-camera-${problem}`, { detail: String((err && err.name) || err) });
    $('camera-retry').hidden = problem === 'insecure' || problem === 'unsupported';
    updateControls();
    return;
  }
  try {
    const scanner = new CameraScanner(video, (text) => onCode(text, 'camera'));
    document.body.dataset.scanner = await scanner.init();
    state.scanner = scanner;
    scanner.start();
  } catch (err) {
    console.warn('station: no barcode decoder', err);
    document.body.dataset.scanner = 'none';
  }
  updateControls();
}

async function cameraLost() {
  if (!state.camera) return;
  if (state.camera.stream.getVideoTracks().every((tr) => tr.readyState === 'ended')) {
    if (state.scanner) state.scanner.stop();
    await stopRecording();
    state.camera = null;
    document.body.dataset.camera = 'off';
    showCameraMessage('station-camera-busy', {});
    $('camera-retry').hidden = false;
    updateControls();
  }
}

// ---- orders ----------------------------------------------------------------

function setOrder(view) {
  state.order = view;
  renderOrder($('order'), view, { t, lang, signIn: config.signIn });
  updateControls();
}

/** A code from the camera, the wedge or the form. */
function onCode(text, source) {
  const number = orderNumberFrom(text);
  if (source === 'camera') {
    const now = Date.now();
    const last = state.lastCamera;
    const seenJustNow = number === last.number && now - last.at < SAME_CODE_QUIET_MS;
    state.lastCamera = { number, at: now };
    if (!number || seenJustNow || number === state.orderNumber) return;
  }
  if (!number) {
    setOrder({ state: 'invalid', text: String(text).slice(0, 40) });
    return;
  }
  if (state.recording && state.recording.number === number) return; // already recording this one
  openOrder(number, source);
}

async function openOrder(number, source) {
  const seq = ++state.lookupSeq;
  state.orderNumber = number;
  document.body.dataset.lastSource = source;
  // The next order ends the current recording, which goes to the queue.
  if (state.recording && state.recording.number !== number) await stopRecording();
  setOrder({ state: 'loading', number });
  let view;
  try {
    const res = await fetch(config.lookup + encodeURIComponent(number), {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (res.ok) view = { state: 'ok', number, order: await res.json() };
    else if (res.status === 401 || res.status === 403) view = { state: 'signin', number };
    else if (res.status === 404) view = { state: 'not-found', number };
    else if (res.status === 422) view = { state: 'invalid', number, text: number };
    else view = { state: 'error', number, detail: String(res.status) };
  } catch (err) {
    // fetch rejects only when no answer came: no connection (whatever navigator.onLine says).
    view = { state: 'offline', number, detail: String((err && err.message) || err) };
  }
  if (seq !== state.lookupSeq) return; // a newer scan won
  if (view.state === 'ok' && view.order && view.order.number) state.orderNumber = view.order.number;
  if (view.state === 'not-found' || view.state === 'invalid') state.orderNumber = null;
  setOrder(view);
  // Proof is worth recording even when the details could not be fetched;
  // not when the order does not exist.
  const recordable = ['ok', 'offline', 'signin', 'error'].includes(view.state);
  if (recordable && $('auto-record').checked && state.camera && !state.recording) {
    await startRecording();
  }
}

// ---- capture ---------------------------------------------------------------

function newProof({ id, number, media, filetype, started }) {
  return proofRecord({ id, order: number, kind: currentKind(), media, filetype, started });
}

function serially(fn) {
  const run = state.busy.then(fn, fn);
  state.busy = run.catch(() => {});
  return run;
}

function startRecording() {
  return serially(async () => {
    if (state.recording || !state.camera || !state.orderNumber) return;
    const number = state.orderNumber;
    const mimeType = pickVideoType();
    if (mimeType === null) {
      showNotice('station-record-unsupported');
      return;
    }
    const started = new Date();
    const id = crypto.randomUUID();
    const video = $('preview');
    const writer = state.store.writer(id, (err) => {
      console.error('station: could not keep recorded data', err);
      if (err && err.name === 'QuotaExceededError') showNotice('station-storage-full');
      stopRecording();
    });
    let rec;
    try {
      rec = new Recording(video, state.camera.stream.getAudioTracks(), {
        label: number,
        mimeType,
        bitsPerSecond: config.video.bitsPerSecond,
        box: config.video,
        onData: writer.write,
      });
    } catch (err) {
      console.error('station: recorder', err);
      showNotice('station-record-failed', { detail: String((err && err.name) || err) });
      return;
    }
    const filetype = baseType(rec.mimeType) || 'video/webm';
    await state.store.create(newProof({ id, number, media: 'video', filetype, started }));
    // Other tabs must not take this recording for an abandoned one.
    const release = state.store.hold(id);
    state.recording = { id, number, startedAt: started.getTime(), rec, get writes() { return writer.done; }, release };
    showNotice(null);
    announce(`${t('station-state-recording')}: ${number}`);
    keepAwake(true);
    updateControls();
  });
}

function stopRecording() {
  return serially(async () => {
    const r = state.recording;
    if (!r) return;
    state.recording = null;
    updateControls();
    try {
      await r.rec.stop();
    } catch (err) {
      console.error('station: stopping the recorder', err);
    }
    await r.writes;
    await state.store.finish(r.id);
    announce(`${t('station-state-waiting')}: ${r.number}`);
    r.release();
    keepAwake(false);
    updateControls();
    state.queue.kick();
  });
}

async function photo() {
  if (!state.camera || !state.orderNumber) return;
  const started = new Date();
  try {
    const blob = await takePhoto($('preview'), state.orderNumber);
    const id = crypto.randomUUID();
    const proof = newProof({ id, number: state.orderNumber, media: 'photo', filetype: 'image/jpeg', started });
    proof.state = 'recording';
    await state.store.create(proof);
    await state.store.addChunk(id, 0, blob);
    await state.store.finish(id);
    flash();
    state.queue.kick();
  } catch (err) {
    console.error('station: photo', err);
    showNotice(err && err.name === 'QuotaExceededError' ? 'station-storage-full' : 'station-photo-failed',
      { detail: String((err && err.name) || err) });
  }
}

function flash() {
  const v = $('viewfinder');
  v.classList.remove('flash');
  void v.offsetWidth;
  v.classList.add('flash');
}

async function keepAwake(on) {
  try {
    if (on && !state.wakeLock && navigator.wakeLock) state.wakeLock = await navigator.wakeLock.request('screen');
    if (!on && state.wakeLock) {
      await state.wakeLock.release();
      state.wakeLock = null;
    }
  } catch { /* not allowed: fine */ }
}

// ---- controls --------------------------------------------------------------

function updateControls() {
  const rec = $('record');
  const recording = Boolean(state.recording);
  rec.disabled = !state.camera || (!recording && !state.orderNumber);
  rec.textContent = t(recording ? 'station-record-stop' : 'station-record-start');
  rec.setAttribute('aria-pressed', String(recording));
  rec.classList.toggle('stop', recording);
  $('photo').disabled = !state.camera || !state.orderNumber;
  document.body.dataset.recording = recording ? state.recording.number : '';
  const badge = $('rec-badge');
  badge.hidden = !recording;
  tickBadge();
  const overlay = $('overlay');
  overlay.textContent = state.orderNumber || '';
  overlay.hidden = !state.orderNumber;
}

function tickBadge() {
  const r = state.recording;
  if (!r) return;
  $('rec-badge').textContent = t('station-recording', {
    number: r.number,
    elapsed: formatDuration(lang, Date.now() - r.startedAt),
  });
}

// ---- queue -----------------------------------------------------------------

let renderPending = false;
function scheduleQueueRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(async () => {
    renderPending = false;
    try {
      const proofs = await state.store.list();
      renderQueue($('queue'), $('queue-empty'), proofs, state.queue.progress, {
        t, lang, onRetry: (id) => state.queue.retry(id),
      });
    } catch (err) {
      console.error('station: queue view', err);
    }
  });
}

/** Recordings a closed or reloaded page left behind go to the queue as they are. */
async function recoverAbandoned() {
  for (const p of await state.store.abandoned()) await state.store.finish(p.id);
}

async function startQueue() {
  try {
    state.store = await Store.open();
  } catch (err) {
    console.error('station: no IndexedDB', err);
    showNotice('station-storage-unavailable', { detail: String((err && err.name) || err) });
    return false;
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  state.queue = new UploadQueue(state.store, { endpoint: config.uploadEndpoint, chunkSize: Number(config.uploadChunkBytes) });
  state.store.addEventListener('change', scheduleQueueRender);
  await recoverAbandoned();
  await state.store.prune();
  scheduleQueueRender();
  state.queue.start();
  return true;
}

// ---- wiring ----------------------------------------------------------------

async function main() {
  setupPage();
  setOrder({ state: 'none' });
  listenForWedge((text) => onCode(text, 'wedge'));
  $('entry').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('entry-input');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    onCode(text, 'manual');
  });
  $('record').addEventListener('click', () => (state.recording ? stopRecording() : startRecording()));
  $('photo').addEventListener('click', () => photo());
  $('camera-retry').addEventListener('click', () => startCamera());
  setInterval(tickBadge, 1000);
  // Back online: fetch the details of an order scanned while offline.
  addEventListener('online', () => {
    if (state.order.state === 'offline' && state.orderNumber) openOrder(state.orderNumber, document.body.dataset.lastSource || 'manual');
  });
  addEventListener('pagehide', () => {
    // The data so far is in IndexedDB; the next page load queues it.
    if (state.recording) try { state.recording.rec.recorder.requestData(); } catch { /* ignore */ }
  });

  const queued = await startQueue();
  if (!queued) {
    $('record').hidden = true;
    $('photo').hidden = true;
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(new URL('./sw.js', import.meta.url), { scope: location.pathname }).catch((err) => {
      console.warn('station: service worker not registered', err);
    });
  }
  await startCamera();
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  console.error('station: failed to start', err);
  showNotice('station-app-error', { detail: String((err && err.message) || err) });
});
