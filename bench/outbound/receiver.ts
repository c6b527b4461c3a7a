import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Receipt {
  id: string;
  at: number;
  /** The end user the event was for (its conversation), and the text the benchmark numbered it with. */
  subject: string;
  text: string;
}

/**
 * The benchmark's webhook endpoint: records when each webhook arrived and what it carried, answers 200,
 * and checks the signature of every tenth one with the standardwebhooks library (what partners use).
 */
export async function startBenchReceiver() {
  const receipts: Receipt[] = [];
  let secret: string | undefined;
  let badSignatures = 0;
  let checked = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id']);
      const json = JSON.parse(body) as { data: { recipient?: { subject?: string }; payload?: { abstractMessage?: any } } };
      receipts.push({
        id,
        at: performance.now(),
        subject: json.data.recipient?.subject ?? '',
        text: String(json.data.payload?.abstractMessage?.staticContent?.text ?? ''),
      });
      if (secret && receipts.length % 10 === 0) {
        checked++;
        try {
          new Webhook(secret).verify(body, {
            'webhook-id': id,
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch {
          badSignatures++;
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/bench`,
    receipts,
    useSecret: (s: string) => (secret = s),
    signatures: () => ({ checked, bad: badSignatures }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Whether each conversation's events arrived in the order they were published: the benchmark numbers
 * its events `bench N` in publication order, so per end user the first receipt of each id must have
 * increasing numbers.
 */
export function orderKept(receipts: Receipt[]): boolean {
  const seen = new Set<string>();
  const last = new Map<string, number>();
  for (const r of receipts) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const n = Number(/^bench (\d+)$/.exec(r.text)?.[1] ?? NaN);
    if (Number.isNaN(n)) continue;
    if ((last.get(r.subject) ?? -1) > n) return false;
    last.set(r.subject, n);
  }
  return true;
}
