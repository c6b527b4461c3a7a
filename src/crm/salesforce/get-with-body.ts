import http from 'node:http';
import https from 'node:https';

/**
 * A GET carrying a body, which fetch refuses to send. The contract gives GET /conversationEntry a JSON
 * body, so bridge mode forwards it this way, as received. Answers in fetch's terms.
 */
export function getWithBody(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Response> {
  const transport = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { method: 'GET', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') answer.set(name, value);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: answer }));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
