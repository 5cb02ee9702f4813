// The server under test:
//  - CHOTOMONI_E2E_BASE=http://host:port: that server (`npm test` starts the
//    Rust server once and points every test file at it this way), signed in
//    as CHOTOMONI_E2E_USER / CHOTOMONI_E2E_PASSWORD (a packer). Uploaded
//    proofs are read back through the proof API as CHOTOMONI_E2E_SUPPORT_USER
//    / CHOTOMONI_E2E_SUPPORT_PASSWORD; without them, with GET on the upload
//    URL or from CHOTOMONI_E2E_UPLOAD_DIR/<id>.
//  - else CHOTOMONI_E2E_TARGET=harness: the Node stand-in (harness/), in this process.
//  - else (CHOTOMONI_E2E_TARGET=rust, the default): a Rust server started for
//    this test file alone (lib/rust-server.mjs), e.g. `node --test tests/camera.test.mjs`.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';

// Live bindings: a Rust server started by startTarget() sets them to the orders it placed.
export let ORDER = process.env.CHOTOMONI_E2E_ORDER || 'CM-000123';
/** Another order that exists, for scanning one after the other. */
export let NEXT = process.env.CHOTOMONI_E2E_NEXT_ORDER || 'CM-000124';
/** An order number that does not exist. */
export let MISSING = process.env.CHOTOMONI_E2E_MISSING_ORDER || 'CM-999999';

export const TARGET = process.env.CHOTOMONI_E2E_BASE ? 'external' : (process.env.CHOTOMONI_E2E_TARGET || 'rust');

export async function startTarget() {
  if (TARGET === 'external') {
    return externalTarget(process.env.CHOTOMONI_E2E_BASE, {
      packer: process.env.CHOTOMONI_E2E_USER && { username: process.env.CHOTOMONI_E2E_USER, password: process.env.CHOTOMONI_E2E_PASSWORD || '' },
      support: process.env.CHOTOMONI_E2E_SUPPORT_USER && { username: process.env.CHOTOMONI_E2E_SUPPORT_USER, password: process.env.CHOTOMONI_E2E_SUPPORT_PASSWORD || '' },
    });
  }
  if (TARGET === 'harness') return harnessTarget();
  if (TARGET === 'rust') {
    const { startRustServer } = await import('./rust-server.mjs');
    const server = await startRustServer();
    [ORDER, NEXT] = server.orders;
    MISSING = 'CM-999999';
    const t = await externalTarget(server.base, { packer: server.packer, support: server.support });
    return { ...t, name: `rust ${server.base}`, close: () => server.stop() };
  }
  throw new Error(`CHOTOMONI_E2E_TARGET must be rust or harness, not ${TARGET}`);
}

async function harnessTarget() {
  const { startHarness } = await import('../harness/server.mjs');
  const h = await startHarness();
  return {
    name: 'harness',
    base: h.base,
    cookies: [],
    serverLog: h.log,
    storeDir: h.storeDir,
    async lookup(number) {
      const r = await fetch(`${h.base}/api/v1/orders/by-code/${encodeURIComponent(number)}`);
      return r.json();
    },
    async uploaded(item) {
      const id = new URL(item.uploadUrl, h.base).pathname.split('/').pop();
      const info = JSON.parse(await readFile(path.join(h.storeDir, `${id}.json`), 'utf8'));
      return { bytes: await readFile(path.join(h.storeDir, id)), metadata: info.metadata || null, proof: null };
    },
    close: () => h.close(),
  };
}

async function signIn(base, { username, password }) {
  const r = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`sign-in of ${username} at ${base}/api/v1/session failed: ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

async function externalTarget(base, { packer, support }) {
  base = base.replace(/\/$/, '');
  const cookies = [];
  let packerToken = null;
  if (packer) {
    packerToken = packer.token || (await signIn(base, packer));
    cookies.push({ name: 'cm_session', value: packerToken, url: base, httpOnly: true, sameSite: 'Lax' });
  }
  const supportToken = support ? support.token || (await signIn(base, support)) : null;
  const auth = (token) => (token ? { Authorization: `Bearer ${token}` } : {});
  return {
    name: base,
    base,
    cookies,
    /** The packer's user name and password, for signing in through the page. */
    packer: packer && packer.password ? { username: packer.username, password: packer.password } : null,
    serverLog: null,
    storeDir: null,
    async lookup(number) {
      const r = await fetch(`${base}/api/v1/orders/by-code/${encodeURIComponent(number)}`, { headers: auth(packerToken) });
      if (!r.ok) throw new Error(`look-up of ${number} on ${base}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    /**
     * The stored file of a queue item. With a support account: the proof the
     * completing PATCH named (Chotomoni-Proof-Id, seen by `station`), found
     * among the order's proofs, and its bytes from /content.
     */
    /**
     * Video proof `id` as support sees it once the server has measured its
     * duration, which inspection does in the background.
     */
    async inspected(id) {
      assert.ok(supportToken, 'reading an inspected proof needs a support account');
      let proof = null;
      for (let i = 0; i < 300; i += 1) {
        const r = await fetch(`${base}/api/v1/proofs/${id}`, { headers: auth(supportToken) });
        assert.equal(r.status, 200, `support reads proof ${id}: ${r.status}`);
        proof = await r.json();
        if (proof.duration_ms != null) return proof;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail(`proof ${id} has no duration after 30 s: ${JSON.stringify(proof)}`);
    },
    async uploaded(item, station) {
      if (supportToken) return readProof(base, auth(supportToken), item, station, auth(packerToken));
      const id = new URL(item.uploadUrl, base).pathname.split('/').pop();
      if (process.env.CHOTOMONI_E2E_UPLOAD_DIR) {
        return { bytes: await readFile(path.join(process.env.CHOTOMONI_E2E_UPLOAD_DIR, id)), metadata: null, proof: null };
      }
      const r = await fetch(new URL(item.uploadUrl, base), { headers: auth(packerToken) });
      if (!r.ok) throw new Error(`GET ${item.uploadUrl} on ${base}: ${r.status}; set CHOTOMONI_E2E_SUPPORT_USER to read proofs back`);
      return { bytes: Buffer.from(await r.arrayBuffer()), metadata: null, proof: null };
    },
    close: async () => {},
  };
}

async function readProof(base, headers, item, station, packerHeaders) {
  assert.ok(station, 'reading a proof back needs the station that uploaded it');
  const url = new URL(item.uploadUrl, base).href;
  let proofId = station.proofIds.get(url);
  for (let i = 0; !proofId && i < 40; i += 1) {
    await new Promise((r) => setTimeout(r, 50)); // the response event may trail the page by a moment
    proofId = station.proofIds.get(url);
  }
  assert.ok(proofId, `the PATCH that completed ${url} answered with Chotomoni-Proof-Id; upload requests: ${JSON.stringify(station.uploads.filter((u) => u.url === url))}`);
  const r = await fetch(`${base}/api/v1/orders/${encodeURIComponent(item.order)}/proofs`, { headers });
  assert.equal(r.status, 200, `support lists the proofs of ${item.order}: ${r.status}`);
  const proofs = await r.json();
  const proof = proofs.find((p) => String(p.id) === String(proofId));
  assert.ok(proof, `proof ${proofId} is among the proofs of ${item.order}: ${JSON.stringify(proofs)}`);
  const c = await fetch(`${base}/api/v1/proofs/${proof.id}/content`, { headers });
  assert.equal(c.status, 200, `support reads proof ${proof.id}'s content`);
  const bytes = Buffer.from(await c.arrayBuffer());
  assert.equal(proof.sha256, createHash('sha256').update(bytes).digest('hex'), 'the proof API\'s sha256 describes the bytes it serves');
  // Packers record proof but do not watch it.
  const denied = await fetch(`${base}/api/v1/proofs/${proof.id}/content`, { headers: packerHeaders });
  assert.ok([403, 404].includes(denied.status), `the packer cannot read the proof back: ${denied.status}`);
  await denied.arrayBuffer().catch(() => {});
  return { bytes, metadata: null, proof };
}

/**
 * Checks that the server keeps exactly the bytes the page recorded for a
 * queue item (and, on the Rust server, that the proof API describes them:
 * sha256, size, order); returns what target.uploaded() read.
 */
export async function assertStored(target, station, item, what = `the ${item.media} of ${item.order}`) {
  assert.match(item.sha256 || '', /^[0-9a-f]{64}$/, `${what}: the queue item exposes the recorded bytes' SHA-256: ${JSON.stringify(item)}`);
  assert.ok(item.uploadUrl, `${what}: the queue item keeps its upload URL: ${JSON.stringify(item)}`);
  const got = await target.uploaded(item, station);
  assert.equal(got.bytes.length, Number(item.size), `${what}: the server holds ${got.bytes.length} bytes, the page recorded ${item.size}`);
  assert.equal(createHash('sha256').update(got.bytes).digest('hex'), item.sha256, `${what}: the server holds exactly the bytes the page recorded`);
  if (got.proof) {
    assert.equal(got.proof.sha256, item.sha256, `${what}: the proof's sha256 is that of the recorded bytes`);
    assert.equal(Number(got.proof.size), Number(item.size), `${what}: the proof's size`);
    assert.equal(got.proof.order, item.order, `${what}: the proof belongs to the order`);
    assert.equal(got.proof.readable, true);
  }
  return got;
}
