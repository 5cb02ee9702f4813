// IndexedDB: every proof (its metadata, state and upload URL) and the media
// itself, written chunk by chunk as the recorder hands it over, so a closed
// tab or a reload loses nothing. Media is deleted only after its upload
// completed. The customer's unboxing recorder keeps its own database
// (`claims/unboxing.js`), so a shared phone never mixes the two queues.

import { rfc3339, extensionFor } from './recorder.js';

const DB_NAME = 'chotomoni-station';
const DB_VERSION = 1;
/** How long finished proofs stay listed (their media is already gone). */
const KEEP_DONE_MS = 24 * 60 * 60 * 1000;
const KEEP_DONE_COUNT = 30;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Runs `fn(tx)` (which must issue its requests synchronously) and waits for the commit. */
function run(db, stores, mode, fn) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let out;
    tx.oncomplete = () => resolve(out);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
    try {
      const r = fn(tx);
      if (r && typeof r.then === 'function') r.then((v) => { out = v; }, reject);
      else out = r;
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      reject(e);
    }
  });
}

function recordingLock(id) {
  return `chotomoni-recording-${id}`;
}

function chunkRange(id) {
  return IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);
}

export class Store extends EventTarget {
  static async open(name = DB_NAME) {
    if (!('indexedDB' in self)) throw new DOMException('IndexedDB is not available', 'NotSupportedError');
    const open = indexedDB.open(name, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('proofs')) db.createObjectStore('proofs', { keyPath: 'id' });
      if (!db.objectStoreNames.contains('chunks')) db.createObjectStore('chunks', { keyPath: ['proof', 'seq'] });
    };
    const db = await req(open);
    return new Store(db, name);
  }

  constructor(db, name = DB_NAME) {
    super();
    this.db = db;
    db.onversionchange = () => db.close();
    this.channel = 'BroadcastChannel' in self ? new BroadcastChannel(name) : null;
    if (this.channel) {
      this.channel.onmessage = (e) => this.dispatchEvent(new CustomEvent('change', { detail: { ...e.data, remote: true } }));
    }
  }

  changed(detail = {}) {
    this.dispatchEvent(new CustomEvent('change', { detail }));
    if (this.channel) this.channel.postMessage(detail);
  }

  async create(proof) {
    await run(this.db, ['proofs'], 'readwrite', (tx) => { tx.objectStore('proofs').add(proof); });
    this.changed({ id: proof.id });
    return proof;
  }

  get(id) {
    return run(this.db, ['proofs'], 'readonly', (tx) => req(tx.objectStore('proofs').get(id)));
  }

  /** Every proof, newest first. */
  async list() {
    const all = await run(this.db, ['proofs'], 'readonly', (tx) => req(tx.objectStore('proofs').getAll()));
    return all.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Merges `changes` into the stored proof; returns the result (or null when gone). */
  async update(id, changes, { quiet = false } = {}) {
    const out = await run(this.db, ['proofs'], 'readwrite', (tx) => {
      const s = tx.objectStore('proofs');
      return req(s.get(id)).then((p) => {
        if (!p) return null;
        const next = { ...p, ...changes };
        s.put(next);
        return next;
      });
    });
    if (!quiet) this.changed({ id });
    return out;
  }

  /** Appends one piece of media and adds its size to the proof. */
  async addChunk(id, seq, blob) {
    await run(this.db, ['proofs', 'chunks'], 'readwrite', (tx) => {
      tx.objectStore('chunks').put({ proof: id, seq, blob });
      const s = tx.objectStore('proofs');
      return req(s.get(id)).then((p) => {
        if (p) s.put({ ...p, size: (p.size || 0) + blob.size, chunks: seq + 1 });
      });
    });
    this.changed({ id, quiet: true });
  }

  /**
   * Where a recorder's timeslices go, in order: `write(blob)` appends one,
   * `done` settles after every write so far. A failed write (storage full)
   * goes to `onError`, once per failure, and the next writes still run.
   */
  writer(id, onError) {
    let seq = 0;
    let writes = Promise.resolve();
    return {
      write: (blob) => {
        const n = seq++;
        writes = writes.then(() => this.addChunk(id, n, blob)).catch(onError);
      },
      get done() { return writes; },
    };
  }

  /** A recording's data is all here: hash it and hand it to the queue. */
  async finish(id) {
    const proof = await this.get(id);
    if (!proof) return;
    const media = await this.media(id, proof.filetype);
    const sha256 = await sha256Hex(media);
    await this.update(id, { state: 'waiting', size: media.size, sha256 });
  }

  /**
   * Marks the recording `id` as one this tab is still making, so another
   * tab does not take it for abandoned; returns what releases it.
   */
  hold(id) {
    let release = null;
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request(recordingLock(id), () => new Promise((resolve) => { release = resolve; }));
    }
    return () => release && release();
  }

  /** Recordings no open tab is making: what a closed or reloaded page left behind. */
  async abandoned() {
    let held = new Set();
    if (navigator.locks && navigator.locks.query) {
      const snapshot = await navigator.locks.query();
      held = new Set((snapshot.held || []).map((l) => l.name));
    }
    return (await this.list()).filter((p) => p.state === 'recording' && !held.has(recordingLock(p.id)));
  }

  /** The proof's media as one Blob (backed by IndexedDB, not copied into memory). */
  async media(id, type) {
    const chunks = await run(this.db, ['chunks'], 'readonly', (tx) => req(tx.objectStore('chunks').getAll(chunkRange(id))));
    chunks.sort((a, b) => a.seq - b.seq);
    return new Blob(chunks.map((c) => c.blob), { type });
  }

  async deleteMedia(id) {
    await run(this.db, ['chunks'], 'readwrite', (tx) => { tx.objectStore('chunks').delete(chunkRange(id)); });
  }

  /** Marks a proof uploaded and frees its media, in one transaction. */
  async markDone(id, changes) {
    await run(this.db, ['proofs', 'chunks'], 'readwrite', (tx) => {
      tx.objectStore('chunks').delete(chunkRange(id));
      const s = tx.objectStore('proofs');
      return req(s.get(id)).then((p) => { if (p) s.put({ ...p, ...changes, state: 'done' }); });
    });
    this.changed({ id });
  }

  /** Forgets a proof and its media (only for one that recorded nothing). */
  async remove(id) {
    await run(this.db, ['proofs', 'chunks'], 'readwrite', (tx) => {
      tx.objectStore('proofs').delete(id);
      tx.objectStore('chunks').delete(chunkRange(id));
    });
    this.changed({ id });
  }

  /** Forgets finished proofs beyond a day or the last few. Never touches unfinished ones. */
  async prune(now = Date.now()) {
    const done = (await this.list()).filter((p) => p.state === 'done');
    const old = done.filter((p, i) => i >= KEEP_DONE_COUNT || now - (p.doneAt || p.createdAt) > KEEP_DONE_MS);
    if (!old.length) return;
    await run(this.db, ['proofs', 'chunks'], 'readwrite', (tx) => {
      for (const p of old) {
        tx.objectStore('proofs').delete(p.id);
        tx.objectStore('chunks').delete(chunkRange(p.id));
      }
    });
    this.changed({});
  }
}

/** Hex SHA-256 of a Blob. */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** 2025-11-25T14:03:07+06:00 → 20251125-140307 (the offset is in captured_at). */
function fileStamp(d) {
  return rfc3339(d).slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/**
 * A new proof's record: `media` is `video` (written as it records) or
 * `photo`; `claim` names the claim that customer evidence belongs to.
 */
export function proofRecord({ id, order, kind, media, filetype, started, claim = null }) {
  return {
    id,
    order,
    kind,
    claim,
    media,
    state: media === 'video' ? 'recording' : 'waiting',
    filetype,
    filename: `${order}-${kind}-${fileStamp(started)}.${extensionFor(filetype)}`,
    capturedAt: rfc3339(started),
    createdAt: started.getTime(),
    size: 0,
    chunks: 0,
    sha256: null,
    uploadUrl: null,
    error: null,
  };
}
