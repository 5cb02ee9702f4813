// `npm test`: the browser tests (node --test, one file at a time) against
//  - the real Rust server (the default): started once here from the prebuilt
//    binary (lib/rust-server.mjs) and handed to every test file through
//    CHOTOMONI_E2E_* variables (lib/target.mjs);
//  - the Node stand-in with CHOTOMONI_E2E_TARGET=harness (`npm run test:harness`);
//  - a server already running, with CHOTOMONI_E2E_BASE (see README.md).
// Arguments replace the default `tests/`, e.g. `npm test -- tests/resume.test.mjs`.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { startRustServer, targetEnv, BIN } from './lib/rust-server.mjs';

const target = process.env.CHOTOMONI_E2E_BASE ? 'external' : (process.env.CHOTOMONI_E2E_TARGET || 'rust');
if (!['external', 'rust', 'harness'].includes(target)) {
  console.error(`CHOTOMONI_E2E_TARGET must be rust or harness, not ${target}`);
  process.exit(2);
}

const started = Date.now();
let server = null;
let env = { ...process.env };
if (target === 'rust') {
  server = await startRustServer();
  env = { ...env, ...targetEnv(server) };
  console.log(`# e2e: the Rust server ${BIN} at ${server.base} (orders ${server.orders.join(', ')}; log ${server.logFile})`);
} else {
  console.log(`# e2e: against ${target === 'harness' ? 'the Node harness' : process.env.CHOTOMONI_E2E_BASE}`);
}

const files = process.argv.slice(2);
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...(files.length ? files : ['tests/'])], { env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));

if (server) {
  if (code !== 0) {
    const log = await readFile(server.logFile, 'utf8').catch(() => '');
    console.error(`# e2e failed; the server's log (${server.logFile}, kept with its data folder ${server.dataDir}) ends:`);
    console.error(log.split('\n').slice(-40).join('\n'));
  }
  await server.stop({ keep: code !== 0 });
}
console.log(`# e2e: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);
