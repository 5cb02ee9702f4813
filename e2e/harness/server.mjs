// A stand-in for the Rust server, for developing and testing the packing
// station: serves /station (the real template, config filled in), the real
// assets, a stand-in order look-up, and the official tus server with a file
// store at /api/v1/uploads/. Run alone: `node harness/server.mjs [port]`.
import http from 'node:http';
import { readFile, mkdtemp } from 'node:fs/promises';
import { createReadStream, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Server as TusServer } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { loadStrings } from './ftl.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const WEB = path.join(REPO, 'crates/web');
const ASSETS_DIR = path.join(WEB, 'assets');

const { orderNumberFrom } = await import(pathToFileURL(path.join(ASSETS_DIR, 'station/scanner.js')).href);

export const DEMO_ORDER = {
  number: 'CM-000123',
  status: 'confirmed',
  items: [
    { name: 'জামদানি শাড়ি', sku: 'JAM-RED-01', quantity: 2, unit_price: 15000 },
    { name: 'Nakshi kantha cushion cover', sku: 'NKC-07', quantity: 1, unit_price: 85000 },
  ],
  delivery_instructions: 'Ring the bell twice; fragile glass bangles inside',
  address: { area: 'Dhanmondi', district: 'Dhaka' },
};

/** A second order, for scanning one order after another. */
export const NEXT_ORDER = {
  number: 'CM-000124',
  status: 'confirmed',
  items: [{ name: 'Khadi panjabi', sku: 'KP-M-03', quantity: 3, unit_price: 120000 }],
  delivery_instructions: null,
  address: { area: 'Agrabad', district: 'Chattogram' },
};
const ORDERS = new Map([DEMO_ORDER, NEXT_ORDER].map((o) => [o.number, o]));

const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
};

const KINDS = new Set(['packing', 'delivery', 'return']);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(text);
}

/** The config the Rust server is to render, for a language. */
export function stationConfig(lang, overrides = {}) {
  return {
    lang,
    uploadEndpoint: '/api/v1/uploads/',
    lookup: '/api/v1/orders/by-code/',
    video: { width: 1280, height: 720, bitsPerSecond: 1000000 },
    strings: loadStrings(path.join(WEB, `locales/station.${lang}.ftl`)),
    ...overrides,
  };
}

/** JSON safe inside <script>: no `<`, `>` or `&` can end the element. */
export function scriptJson(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export async function renderStation(lang, overrides) {
  const tpl = await readFile(path.join(WEB, 'templates/station.html'), 'utf8');
  return tpl
    .replaceAll('{{ config_json|safe }}', scriptJson(stationConfig(lang, overrides)))
    .replaceAll('{{ assets }}', '/assets');
}

/**
 * Starts the harness. Returns { base, storeDir, log, config, close() };
 * `log` lists every upload request: { method, url, uploadOffset, status }.
 * `config` (mutable) is merged into the page's config on each /station load.
 */
export async function startHarness({ port = 0, host = '127.0.0.1', storeDir, quiet = true } = {}) {
  storeDir = storeDir || (await mkdtemp(path.join(tmpdir(), 'cm-tus-')));
  const log = [];
  const config = {};
  const tus = new TusServer({
    path: '/api/v1/uploads',
    datastore: new FileStore({ directory: storeDir }),
    relativeLocation: true,
    maxSize: 512 * 1024 * 1024,
    // What the Rust server checks too: the metadata the station sends.
    async onUploadCreate(_req, upload) {
      const m = upload.metadata || {};
      const problems = [];
      if (!orderNumberFrom(m.order || '') || orderNumberFrom(m.order) !== m.order) problems.push('order');
      if (!KINDS.has(m.kind)) problems.push('kind');
      if (!RFC3339.test(m.captured_at || '')) problems.push('captured_at');
      if (!m.filename) problems.push('filename');
      if (!/^(video\/(mp4|webm)|image\/jpeg)$/.test(m.filetype || '')) problems.push('filetype');
      if (problems.length) {
        throw { status_code: 400, body: JSON.stringify({ error: { code: 'invalid_field', message: `bad metadata: ${problems.join(', ')}`, field: problems[0] } }) };
      }
      return {};
    },
  });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://harness');
    try {
      if (url.pathname.startsWith('/api/v1/uploads')) {
        const entry = { method: req.method, url: url.pathname, uploadOffset: req.headers['upload-offset'] ?? null, status: null, at: Date.now() };
        log.push(entry);
        res.on('finish', () => { entry.status = res.statusCode; });
        res.on('close', () => { if (entry.status === null) entry.status = res.writableFinished ? res.statusCode : 'aborted'; });
        await tus.handle(req, res);
        return;
      }
      if (url.pathname.startsWith('/api/v1/orders/by-code/')) {
        const scanned = decodeURIComponent(url.pathname.slice('/api/v1/orders/by-code/'.length));
        const number = orderNumberFrom(scanned);
        if (!number) {
          sendJson(res, 422, { error: { code: 'invalid_field', message: 'does not contain an order number such as CM-000123', field: 'scanned' } });
        } else if (ORDERS.has(number)) {
          sendJson(res, 200, ORDERS.get(number));
        } else {
          sendJson(res, 404, { error: { code: 'not_found', message: 'order not found' } });
        }
        return;
      }
      if (url.pathname === '/station' && (req.method === 'GET' || req.method === 'HEAD')) {
        const lang = url.searchParams.get('lang') === 'en' ? 'en' : 'bn';
        const html = await renderStation(lang, config);
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      if (url.pathname.startsWith('/assets/') && (req.method === 'GET' || req.method === 'HEAD')) {
        const rel = path.normalize(decodeURIComponent(url.pathname.slice('/assets/'.length)));
        const file = path.join(ASSETS_DIR, rel);
        if (!file.startsWith(ASSETS_DIR + path.sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
        const st = statSync(file);
        if (!st.isFile()) throw Object.assign(new Error('dir'), { code: 'ENOENT' });
        const headers = {
          'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
          'Content-Length': st.size,
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
        };
        if (rel === path.join('station', 'sw.js')) headers['Service-Worker-Allowed'] = '/station';
        res.writeHead(200, headers);
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).pipe(res);
        return;
      }
      sendJson(res, 404, { error: { code: 'not_found', message: 'not found' } });
    } catch (err) {
      if (err && err.code === 'ENOENT') sendJson(res, 404, { error: { code: 'not_found', message: 'not found' } });
      else {
        if (!quiet) console.error(err);
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(err) } });
        else res.destroy();
      }
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const base = `http://${host}:${server.address().port}`;
  return {
    base,
    storeDir,
    log,
    config,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] || process.env.PORT || 8090);
  const h = await startHarness({ port, quiet: false });
  console.log(`harness: ${h.base}/station (uploads stored in ${h.storeDir})`);
}
