// Starts the real Chotomoni server for the browser tests: a prebuilt binary
// (CHOTOMONI_BIN, default ../target/debug/chotomoni; `cargo build -p
// chotomoni`), on SQLite in a fresh data folder with a random master key,
// listening on a free port. Adds a packer (who records) and a support
// account (who reads proofs back), and places the orders the tests scan.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.resolve(E2E, process.env.CHOTOMONI_BIN || '../target/debug/chotomoni');

/** The orders the tests scan: one with two items and instructions, one more. */
export const ORDER_BODIES = [
  {
    customer: { name: 'Shapla Akter', phone: '01711000001' },
    address: { line: 'House 12, Road 7, Block C', area: 'Dhanmondi', district: 'Dhaka' },
    items: [
      { name: 'জামদানি শাড়ি', sku: 'JAM-RED-01', quantity: 2, unit_price: 15000 },
      { name: 'Nakshi kantha cushion cover', sku: 'NKC-07', quantity: 1, unit_price: 85000 },
    ],
    delivery_instructions: 'Ring the bell twice, fragile glass bangles inside',
    payment_method: 'cod',
  },
  {
    customer: { name: 'Karim Uddin', phone: '01811000002' },
    address: { line: 'Flat 3B, CDA Avenue', area: 'Agrabad', district: 'Chattogram' },
    items: [{ name: 'Khadi panjabi', sku: 'KP-M-03', quantity: 3, unit_price: 120000 }],
    payment_method: 'cod',
  },
];

/** The environment for the binary: ours only, nothing inherited that could point it elsewhere. */
function serverEnv(masterKey, dataDir) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('CHOTOMONI_') || k === 'DATABASE_URL') continue;
    env[k] = v;
  }
  return {
    ...env,
    CHOTOMONI_MASTER_KEY: masterKey,
    CHOTOMONI_DATA_DIR: dataDir,
    CHOTOMONI_LOG: process.env.CHOTOMONI_E2E_SERVER_LOG_LEVEL || 'info',
  };
}

function run(file, args, { env, input }) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin.end(input);
  });
}

async function json(res, what) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Starts the server (`env`: more of its settings, e.g. an SMS transport). Returns { base, dataDir, logFile, packer, support,
 * orders: [numbers], stop() }; packer and support are { username, password, token }.
 */
export async function startRustServer({ quiet = true, env: extraEnv = {} } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`no chotomoni binary at ${BIN}: build it (cargo build -p chotomoni) or set CHOTOMONI_BIN`);
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cm-e2e-server-'));
  const env = { ...serverEnv(randomBytes(32).toString('hex'), dataDir), ...extraEnv };
  const accounts = {};
  for (const role of ['packer', 'support']) {
    const username = `e2e-${role}`;
    const password = randomBytes(12).toString('hex');
    await run(BIN, ['--data-dir', dataDir, 'staff', 'add', username, '--role', role], { env, input: password });
    accounts[role] = { username, password };
  }

  const logFile = path.join(dataDir, 'server.log');
  const log = createWriteStream(logFile);
  const child = spawn(BIN, ['--data-dir', dataDir, 'serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.pipe(log);
  if (!quiet) child.stderr.pipe(process.stderr);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // It prints "Chotomoni is running at http://127.0.0.1:PORT/" once it listens.
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s; see ${logFile}`)), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      log.write(d);
      const m = /running at (http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening; see ${logFile}`));
    });
  });

  const stop = async ({ keep = false } = {}) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    log.end();
    if (!keep) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };

  try {
    for (const a of Object.values(accounts)) {
      const r = await fetch(`${base}/api/v1/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: a.username, password: a.password }),
      });
      a.token = (await json(r, `signing in ${a.username}`)).token;
    }
    const orders = [];
    // Entered by support, as phone orders: a shop order must name products
    // of the shop's catalogue at its prices, and this shop has none.
    for (const body of ORDER_BODIES) {
      const r = await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accounts.support.token}` },
        body: JSON.stringify({ ...body, source: 'phone' }),
      });
      orders.push((await json(r, 'placing an order')).number);
    }
    await writeFile(path.join(dataDir, 'e2e.json'), JSON.stringify({ base, orders }, null, 1));
    return { base, dataDir, logFile, packer: accounts.packer, support: accounts.support, orders, stop };
  } catch (e) {
    await stop({ keep: true });
    throw e;
  }
}

/** The environment that points the tests (lib/target.mjs) at a started server. */
export function targetEnv(server) {
  return {
    CHOTOMONI_E2E_BASE: server.base,
    CHOTOMONI_E2E_USER: server.packer.username,
    CHOTOMONI_E2E_PASSWORD: server.packer.password,
    CHOTOMONI_E2E_SUPPORT_USER: server.support.username,
    CHOTOMONI_E2E_SUPPORT_PASSWORD: server.support.password,
    CHOTOMONI_E2E_ORDER: server.orders[0],
    CHOTOMONI_E2E_NEXT_ORDER: server.orders[1],
    CHOTOMONI_E2E_MISSING_ORDER: 'CM-999999',
    CHOTOMONI_E2E_SERVER_LOG: server.logFile,
  };
}
