// The bare baseline the bridge is compared with: Express + multer parsing the same multipart request and
// answering 202, nothing else. `tsx bench/baseline-server.ts <none|disk> <dir> [prototyped]` prints
// {"port": n} when ready. Served as `app.listen` does (http.createServer(app)), or with `prototyped` by
// the bridge's createHttpServer (requests born with the app's prototypes: src/http/http-server.ts).
import http from 'node:http';
import express from 'express';
import multer from 'multer';
import { createHttpServer } from '../src/http/http-server.ts';

const [mode, dir, serving] = process.argv.slice(2);
const app = express();
const parse = mode === 'disk' ? multer({ dest: dir! }).any() : multer().none();
app.post('/api/v1/interactions', parse, (_req, res) => {
  res.status(202).json({ success: true });
});
const server = serving === 'prototyped' ? createHttpServer(app) : http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
