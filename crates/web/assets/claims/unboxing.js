// The station's recorder in customer mode: an unboxing video for an open
// claim, recorded on the customer's phone with the order number and the
// time drawn on it, and sent as kind `claim` through the station's
// resumable upload queue, so a dropped connection resumes instead of
// starting over. The page shows the privacy policy's camera wording before
// the browser asks for the camera, and nothing recorded leaves the phone
// until the customer presses send: a retake or a closed page discards it.
import { openCamera, cameraProblem, Recording, pickVideoType, baseType } from '../station/recorder.js';
import { Store, proofRecord } from '../station/store.js';
import { UploadQueue } from '../station/queue.js';
import { formatDuration } from '../station/ui.js';
import { localDigits } from '../station/i18n.js';

// Its own database and upload lock: a phone that is also a packing station
// keeps the two queues apart.
const DB = 'chotomoni-claims';
const LOCK = 'chotomoni-claims-uploader';
// As evidence.js sends chosen files.
const CHUNK_BYTES = 8 * 1024 * 1024;

const lang = document.documentElement.lang === 'en' ? 'en' : 'bn';

/** The store and its queue, opened once for every claim on the page. */
let uploads = null;
function openUploads() {
  uploads ||= (async () => {
    const store = await Store.open(DB);
    // Recordings never sent (the page closed while recording or reviewing)
    // were not the customer's choice to send: they go. One another tab is
    // still making or showing stays.
    for (const p of await store.abandoned()) await store.remove(p.id);
    const queue = new UploadQueue(store, { endpoint: '/api/v1/uploads/', chunkSize: CHUNK_BYTES, lock: LOCK });
    queue.start();
    return { store, queue };
  })();
  return uploads;
}

function setup(root) {
  const order = root.dataset.order;
  const claim = root.dataset.claim;
  const box = {
    width: Number(root.dataset.width) || 1280,
    height: Number(root.dataset.height) || 720,
  };
  const bitsPerSecond = Number(root.dataset.bits) || 1000000;
  const part = (name) => root.querySelector(`[data-part="${name}"]`);
  const step = (name) => root.querySelector(`[data-step="${name}"]`);
  const preview = part('preview');
  const playback = part('playback');
  const clock = part('clock');
  const sending = part('sending');

  /** Shows one of the steps (ask, camera, review), or none: the start button. */
  const show = (which) => {
    for (const p of ['ask', 'camera', 'review']) part(p).hidden = p !== which;
    step('start').hidden = which !== null;
  };
  const problem = (which) => {
    for (const p of root.querySelectorAll('[data-problem]')) p.hidden = p.dataset.problem !== which;
  };

  let camera = null;
  let take = null; // { id, rec, writer, release, timer }
  let review = null; // the object URL being played back

  const closeCamera = () => {
    if (camera) for (const track of camera.stream.getTracks()) track.stop();
    camera = null;
    preview.srcObject = null;
  };

  const discardReview = () => {
    if (review) URL.revokeObjectURL(review);
    review = null;
    playback.removeAttribute('src');
  };

  async function record() {
    problem(null);
    const { store } = await openUploads();
    const mimeType = pickVideoType();
    if (mimeType === null) {
      show(null);
      problem('camera');
      return;
    }
    // The preview is shown before the camera opens: a hidden video may not start playing.
    show('camera');
    step('stop').disabled = true;
    if (!camera) {
      try {
        camera = await openCamera(preview, box);
      } catch (err) {
        console.warn('claims: camera', err);
        closeCamera();
        show(null);
        problem(cameraProblem(err) === 'denied' ? 'denied' : 'camera');
        return;
      }
    }
    const id = crypto.randomUUID();
    const started = new Date();
    const writer = store.writer(id, (err) => {
      console.error('claims: could not keep the recording', err);
      problem('failed');
    });
    let rec;
    try {
      rec = new Recording(preview, camera.stream.getAudioTracks(), {
        label: order, mimeType, bitsPerSecond, box, onData: writer.write,
      });
    } catch (err) {
      console.error('claims: recorder', err);
      closeCamera();
      show(null);
      problem('camera');
      return;
    }
    const filetype = baseType(rec.mimeType) || 'video/webm';
    await store.create(proofRecord({ id, order, kind: 'claim', claim, media: 'video', filetype, started }));
    const release = store.hold(id);
    const tick = () => {
      clock.textContent = `● ${clock.dataset.label} · ${formatDuration(lang, Date.now() - started.getTime())}`;
    };
    tick();
    take = { id, rec, writer, release, timer: setInterval(tick, 1000) };
    step('stop').disabled = false;
    root.dataset.state = 'recording';
  }

  async function stop() {
    const t = take;
    if (!t || root.dataset.state !== 'recording') return;
    root.dataset.state = 'stopping';
    step('stop').disabled = true;
    clearInterval(t.timer);
    await t.rec.stop();
    await t.writer.done;
    closeCamera();
    const { store } = await openUploads();
    const proof = await store.get(t.id);
    review = URL.createObjectURL(await store.media(t.id, proof.filetype));
    playback.src = review;
    show('review');
    root.dataset.state = 'review';
  }

  async function retake() {
    const { store } = await openUploads();
    discardReview();
    if (take) {
      take.release();
      await store.remove(take.id);
    }
    take = null;
    await record();
  }

  async function send() {
    const t = take;
    if (!t) return;
    const { store, queue } = await openUploads();
    problem(null);
    step('send').disabled = true;
    step('retake').disabled = true;
    sending.hidden = false;
    sending.textContent = `${sending.dataset.label}…`;
    root.dataset.state = 'sending';
    const proof = await store.get(t.id);
    if (proof && proof.state === 'failed') await queue.retry(t.id);
    else if (proof && proof.state === 'recording') await store.finish(t.id);
    t.release();
    queue.kick();
  }

  // The queue reports through the store: progress while it sends, and the
  // page reloads once the video has arrived, so the claim lists it.
  openUploads().then(({ store, queue }) => {
    store.addEventListener('change', async (e) => {
      if (!take || (e.detail && e.detail.id && e.detail.id !== take.id)) return;
      const proof = await store.get(take.id);
      if (!proof || root.dataset.state !== 'sending') return;
      if (proof.state === 'done') {
        root.dataset.state = 'sent';
        window.location.reload();
      } else if (proof.state === 'failed') {
        problem('failed');
        step('send').disabled = false;
      } else {
        const percent = queue.progress.get(take.id) ?? 0;
        sending.textContent = `${sending.dataset.label}… ${localDigits(lang, percent)}%`;
      }
    });
  }).catch(() => {});

  step('start').addEventListener('click', () => {
    problem(null);
    show('ask');
  });
  step('cancel').addEventListener('click', () => show(null));
  step('allow').addEventListener('click', () => record());
  step('stop').addEventListener('click', () => stop());
  step('retake').addEventListener('click', () => retake());
  step('send').addEventListener('click', () => send());
  addEventListener('pagehide', () => {
    if (take) clearInterval(take.timer);
    closeCamera();
  });
  root.hidden = false;
}

async function main() {
  const roots = [...document.querySelectorAll('section.unboxing')];
  if (!roots.length) return;
  // Without somewhere to keep the recording or a recorder, the file chooser is the way.
  if (!('MediaRecorder' in self) || !('indexedDB' in self)) return;
  try {
    await openUploads();
  } catch (err) {
    console.warn('claims: no IndexedDB for recordings', err);
    return;
  }
  for (const root of roots) setup(root);
}

main();
