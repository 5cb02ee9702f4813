// The background upload queue: one proof at a time, oldest first, with the
// tus protocol (tus-js-client, loaded as the classic script vendor/tus.min.js).
// The upload URL is kept in the proof's IndexedDB record, so a reload or a
// lost connection resumes where the server says it stopped.

import { sha256Hex } from './store.js';

/** tus-js-client's own retries for one attempt; the queue retries further on `online`. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];
/** How often failed proofs are tried again while the page is open. */
const RETRY_EVERY_MS = 30000;
/** An upload with no request, response or progress for this long is given up (and retried later). */
const STALL_MS = 60000;

/** A failure as a reason the page can name: offline, signin, server, storage, unknown. */
export function classify(err) {
  const res = (err && err.originalResponse) || (err && err.causingError && err.causingError.transient);
  const status = res && typeof res.getStatus === 'function' ? res.getStatus() : 0;
  if (err && err.name === 'QuotaExceededError') return { reason: 'storage', status: 0 };
  if (status === 401 || status === 403) return { reason: 'signin', status };
  if (status >= 400) return { reason: 'server', status, detail: safeBody(res) };
  if (!navigator.onLine || (err && (err.stalled || (err.originalRequest && !res)))) return { reason: 'offline', status: 0 };
  return { reason: 'unknown', status, detail: String((err && err.message) || err) };
}

function safeBody(res) {
  try {
    const body = res.getBody && res.getBody();
    if (!body) return '';
    try {
      const j = JSON.parse(body);
      if (j && j.error && j.error.message) return String(j.error.message).slice(0, 200);
    } catch { /* not JSON */ }
    return String(body).slice(0, 200);
  } catch {
    return '';
  }
}

/**
 * tus-js-client starts a new upload when the HEAD that resumes one answers
 * anything but 2xx or 423, so a passing 5xx or 429 (a restarting or busy
 * server) would throw away every byte already sent. Such an answer is made a
 * failed request instead, which tus retries like a lost connection.
 */
class ResumingHttpStack {
  constructor(inner) {
    this.inner = inner;
  }

  createRequest(method, url) {
    const request = this.inner.createRequest(method, url);
    if (method !== 'HEAD') return request;
    const send = request.send.bind(request);
    request.send = (body) => send(body).then((res) => {
      const status = res.getStatus();
      if (status >= 500 || status === 429) {
        throw Object.assign(new Error(`the upload's offset could not be read (${status})`), { transient: res });
      }
      return res;
    });
    return request;
  }

  getName() {
    return 'ResumingHttpStack';
  }
}

export class UploadQueue extends EventTarget {
  /**
   * @param {import('./store.js').Store} store
   * @param {{endpoint: string, chunkSize: number, lock?: string}} options
   */
  constructor(store, { endpoint, chunkSize, lock = 'chotomoni-station-uploader' }) {
    super();
    this.store = store;
    this.lock = lock;
    this.endpoint = endpoint;
    this.chunkSize = chunkSize > 0 ? chunkSize : Infinity;
    this.busy = false;
    this.current = null; // { id, upload }
    this.progress = new Map(); // id -> percent (this tab's live view)
    this.enabled = false;
    addEventListener('online', () => this.retryFailed());
    setInterval(() => this.retryFailed(true), RETRY_EVERY_MS);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.retryFailed(true);
    });
    store.addEventListener('change', (e) => {
      if (e.detail && e.detail.remote && typeof e.detail.percent === 'number') {
        this.progress.set(e.detail.id, e.detail.percent);
      }
    });
  }

  /**
   * Starts working. With the Web Locks API only one tab of this browser
   * uploads at a time; the others show the queue and take over when it closes.
   */
  start() {
    const go = () => {
      this.enabled = true;
      this.kick();
    };
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request(this.lock, () => {
        go();
        return new Promise(() => {}); // held for the page's lifetime
      }).catch(go);
    } else {
      go();
    }
  }

  /** Picks the next waiting proof, if nothing is uploading. */
  async kick() {
    if (!this.enabled || this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const all = await this.store.list();
        const next = all
          .filter((p) => p.state === 'waiting' || p.state === 'uploading')
          .sort((a, b) => a.createdAt - b.createdAt)[0];
        if (!next) break;
        await this.upload(next);
      }
    } catch (e) {
      console.error('station: upload queue stopped', e);
    } finally {
      this.busy = false;
    }
  }

  /** Failed proofs back to waiting (all, or only those whose failure may heal by itself). */
  async retryFailed(onlyTransient = false) {
    if (!this.enabled) return;
    if (onlyTransient && !navigator.onLine) return;
    const failed = (await this.store.list()).filter((p) => p.state === 'failed'
      && (!onlyTransient || p.error?.reason !== 'server' || p.error?.status >= 500 || p.error?.status === 409 || p.error?.status === 423));
    for (const p of failed) await this.store.update(p.id, { state: 'waiting', error: null });
    if (failed.length || navigator.onLine) this.kick();
  }

  async retry(id) {
    await this.store.update(id, { state: 'waiting', error: null });
    this.kick();
  }

  upload(proof) {
    const tus = self.tus;
    return new Promise(async (resolve) => {
      let media;
      try {
        media = await this.store.media(proof.id, proof.filetype);
        if (!proof.sha256) {
          const sha256 = await sha256Hex(media);
          proof = await this.store.update(proof.id, { sha256, size: media.size }, { quiet: true });
        }
        if (!tus || !tus.Upload) throw new Error('tus-js-client is not loaded');
      } catch (e) {
        await this.fail(proof.id, e);
        resolve();
        return;
      }
      if (media.size === 0) {
        // A recording that produced nothing (stopped at once): nothing to keep or show.
        await this.store.remove(proof.id);
        resolve();
        return;
      }
      let urlSaved = Promise.resolve();
      let lastActivity = Date.now();
      let settled = false;
      const alive = () => { lastActivity = Date.now(); };
      const finish = async (err) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        this.current = null;
        this.progress.delete(proof.id);
        if (err) await this.fail(proof.id, err);
        else await this.store.markDone(proof.id, { doneAt: Date.now(), uploadUrl: upload.url, offset: media.size });
        resolve();
      };
      const upload = new tus.Upload(media, {
        endpoint: this.endpoint,
        uploadUrl: proof.uploadUrl || null,
        httpStack: new ResumingHttpStack(new tus.DefaultHttpStack()),
        chunkSize: this.chunkSize,
        retryDelays: RETRY_DELAYS,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: false,
        metadata: {
          order: proof.order,
          kind: proof.kind,
          captured_at: proof.capturedAt,
          filename: proof.filename,
          filetype: proof.filetype,
          // Customer evidence names its claim; the server refuses `claim` uploads without it.
          ...(proof.claim ? { claim: String(proof.claim) } : {}),
        },
        onUploadUrlAvailable: () => {
          if (upload.url && upload.url !== proof.uploadUrl) {
            proof = { ...proof, uploadUrl: upload.url };
            urlSaved = this.store.update(proof.id, { uploadUrl: upload.url }, { quiet: true });
          }
        },
        // The URL is in IndexedDB before any media is sent to it.
        onBeforeRequest: (req) => {
          alive();
          return req.getMethod() === 'PATCH' ? urlSaved : undefined;
        },
        onAfterResponse: alive,
        onProgress: (sent, total) => {
          alive();
          const percent = total ? Math.floor((sent / total) * 100) : 0;
          if (this.progress.get(proof.id) !== percent) {
            this.progress.set(proof.id, percent);
            this.store.changed({ id: proof.id, percent });
          }
        },
        onChunkComplete: (_size, accepted) => {
          this.store.update(proof.id, { offset: accepted }, { quiet: true }).catch(() => {});
        },
        onSuccess: () => finish(null),
        onError: (err) => finish(err),
      });
      // A connection that hangs without failing would stall the whole queue.
      const watchdog = setInterval(() => {
        if (Date.now() - lastActivity < STALL_MS) return;
        upload.abort(false).catch(() => {});
        finish(Object.assign(new Error('upload stalled'), { stalled: true }));
      }, 5000);
      this.current = { id: proof.id, upload };
      await this.store.update(proof.id, { state: 'uploading', error: null });
      upload.start();
    });
  }

  async fail(id, err) {
    const error = classify(err);
    console.warn('station: upload failed', id, error, err);
    await this.store.update(id, { state: 'failed', error, failedAt: Date.now() });
  }
}
