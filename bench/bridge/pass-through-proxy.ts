// The least any Node process in the middle can cost: a bare node:http server that reads each request
// whole and sends it on to the org stand-in through an undici pool (the client the bridge uses), then
// copies the answer back. No token check, no parse, no validation, no record. Measured beside the
// bridge so the throughput target can be read against what one extra Node HTTP hop costs on this
// machine. Run as its own process with the stand-in's URL as its argument; prints its port on stdout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const target = process.argv[2];
if (!target) throw new Error('usage: pass-through-proxy.ts <org stand-in URL>');
const org = new Pool(target, { connections: 64 });

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'orgid', 'authorizationcontext', 'requestid']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    org
      .request({ method: 'POST', path: req.url ?? '/', headers, body: Buffer.concat(chunks) })
      .then(async (answer) => {
        const text = await answer.body.text();
        res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      })
      .catch(() => res.writeHead(502).end());
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
process.on('SIGTERM', () => server.close(() => void org.close().then(() => process.exit(0))));
