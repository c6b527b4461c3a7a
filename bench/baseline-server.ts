// The bare baseline the bridge is compared with: Express + multer parsing the same multipart request and
// answering 202, nothing else. `tsx bench/baseline-server.ts <none|disk> <dir>` prints {"port": n} when ready.
import express from 'express';
import multer from 'multer';

const [mode, dir] = process.argv.slice(2);
const app = express();
const parse = mode === 'disk' ? multer({ dest: dir! }).any() : multer().none();
app.post('/api/v1/interactions', parse, (_req, res) => {
  res.status(202).json({ success: true });
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
