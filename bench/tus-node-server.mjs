// The official Node tus server (@tus/server with @tus/file-store, from
// e2e/node_modules) as the comparison for bench/ingest.sh: it stores the bytes
// as they arrive and does no hashing, encryption or fsync.
//
//   node bench/tus-node-server.mjs PORT DIRECTORY      (endpoint /files/)
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const { Server } = await load('@tus/server');
const { FileStore } = await load('@tus/file-store');

const [port, directory] = process.argv.slice(2);
mkdirSync(directory, { recursive: true });
const server = new Server({ path: '/files', datastore: new FileStore({ directory }) });
server.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
