// An org that answers at once, for measuring what the bridge itself adds: the OAuth token endpoint
// (any assertion is accepted) and the Interaction API (any body is read and answered 202, as the org
// answers an accepted message). Run as its own process; prints its port on stdout.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const path = req.url?.split('?')[0];
    if (req.method === 'POST' && path === '/services/oauth2/token') {
      json(200, { access_token: `stand-in-${randomUUID()}`, instance_url: `http://127.0.0.1:${port}`, token_type: 'Bearer' });
    } else if (path?.startsWith('/api/v1/')) {
      json(202, { conversationIdentifier: randomUUID(), id: randomUUID(), workItemIds: [], success: true });
    } else json(404, { message: 'not here' });
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
