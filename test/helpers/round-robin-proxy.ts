import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  /** The port requests go to. */
  port: number;
  /** The URL polled for readiness (200: send traffic; anything else or no answer: do not). */
  readyUrl: string;
}

/**
 * The load balancer of the scale-out tests: round robin over the backends whose readiness probe last
 * answered 200, keep-alive connections to them, and no retries: a backend's error or reset reaches the
 * client as a 502, so a drain that drops a request shows up in the test.
 */
export async function startRoundRobinProxy(backends: Backend[], options: { port?: number; probeEveryMs?: number } = {}) {
  const ready = new Set<Backend>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const probing = { on: true };
  const probe = async (b: Backend) => {
    try {
      const res = await fetch(b.readyUrl, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) ready.add(b);
      else ready.delete(b);
    } catch {
      ready.delete(b);
    }
  };
  const probeLoop = (async () => {
    while (probing.on) {
      await Promise.all(backends.map(probe));
      await new Promise((r) => setTimeout(r, options.probeEveryMs ?? 100));
    }
  })();
  await Promise.all(backends.map(probe));

  const counts = { proxied: 0, badGateway: 0, noBackend: 0 };
  const server = http.createServer((req, res) => {
    const candidates = backends.filter((b) => ready.has(b));
    if (candidates.length === 0) {
      counts.noBackend++;
      res.writeHead(503).end('no ready backend');
      return;
    }
    const backend = candidates[next++ % candidates.length]!;
    counts.proxied++;
    const upstream = http.request(
      { host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      counts.badGateway++;
      if (!res.headersSent) res.writeHead(502).end(`upstream ${backend.port}: ${err.message}`);
      else res.destroy(err);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    /** Whether the proxy currently sends traffic to the backend on this port. */
    routesTo: (backendPort: number) => [...ready].some((b) => b.port === backendPort),
    close: async () => {
      probing.on = false;
      await probeLoop;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}
