// Uploads a file with the official tus client (tus-js-client, from
// e2e/node_modules), reading it as a stream, and prints one JSON line:
// {"seconds":…,"bytes":…,"proofs":[…]} — wall time from the first request to
// the last upload's success, total bytes, and the Chotomoni-Proof-Id of each
// upload (when the server sends one).
//
//   node bench/tus-upload.mjs --endpoint URL --file PATH [--chunk-mb N]
//        [--count N] [--token BEARER] [--order CM-000001]
//
// --chunk-mb 0 (the default) sends the whole file in one PATCH, tus-js-client's
// own default; --count N runs N uploads of the file at once.
import { createReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const tus = require('tus-js-client');

// Strictly `--name value` pairs: a bearer token may itself start with `-`.
const argv = process.argv.slice(2);
const args = {};
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
const file = args.file;
const chunkMb = Number(args['chunk-mb'] ?? 0);
const count = Number(args.count ?? 1);
const size = statSync(file).size;

function uploadOnce(n) {
  return new Promise((resolve, reject) => {
    let proof = null;
    const upload = new tus.Upload(createReadStream(file), {
      endpoint: args.endpoint,
      chunkSize: chunkMb > 0 ? chunkMb * 1024 * 1024 : Infinity,
      // A benchmark must fail loudly, not retry quietly.
      retryDelays: null,
      storeFingerprintForResuming: false,
      headers: args.token ? { authorization: `Bearer ${args.token}` } : {},
      metadata: {
        order: args.order ?? 'CM-000001',
        kind: 'packing',
        filename: `bench-${n}.mp4`,
        filetype: 'video/mp4',
      },
      onAfterResponse(_req, res) {
        proof = res.getHeader('chotomoni-proof-id') ?? proof;
      },
      onError: reject,
      onSuccess: () => resolve(proof),
    });
    upload.start();
  });
}

const started = performance.now();
const proofs = await Promise.all(Array.from({ length: count }, (_, i) => uploadOnce(i))).catch(
  (e) => {
    console.error(`upload failed: ${e.message}`);
    process.exit(1);
  },
);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, bytes: size * count, proofs: proofs.filter(Boolean) }));
