import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import S3rver from 's3rver';
import { useEmbeddedStore, type LocalPut } from './embedded-s3-store.ts';
import { hasValidSignature, type S3Credentials } from './s3-request-signature.ts';

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  /** The only credentials the server accepts: generated once per data directory (see embeddedS3Credentials). */
  credentials: S3Credentials;
  /**
   * Deletes the parts of multipart uploads started more than `olderThanMs` ago and never completed: what
   * an S3 lifecycle rule (AbortIncompleteMultipartUpload) does. s3rver does not implement
   * AbortMultipartUpload (405), so the parts of a refused upload stay in a directory of its own, not
   * listed as objects, until this removes them. So are the staging files of PutObjects cut short by the
   * death of the process (embedded-s3-store.ts).
   */
  sweepIncompleteUploads(olderThanMs: number): Promise<number>;
  /** Writes an object into the bucket from this process, without a request to the server (embedded-s3-store.ts). */
  startLocalPut(): LocalPut;
  close(): Promise<void>;
}

/**
 * Starts an S3-compatible server in this process, keeping its objects as files under `directory`. Only
 * requests signed (AWS Signature V4) with the data directory's own credentials get through; anything else
 * is answered 403 AccessDenied before s3rver sees it, so other users of the machine can neither list,
 * read nor overwrite attachments.
 */
export async function startEmbeddedS3(options: {
  directory: string;
  credentialsFile: string;
  port: number;
  bucket: string;
}): Promise<EmbeddedS3> {
  fs.mkdirSync(options.directory, { recursive: true });
  const credentials = embeddedS3Credentials(options.credentialsFile);
  // s3rver keeps the keys it knows in a process-wide registry; its own check wants the key id there. Its
  // built-in S3RVER key stays registered but never gets past the signature check above s3rver.
  const accounts = createRequire(import.meta.url)('s3rver/lib/models/account') as S3rverAccounts;
  accounts.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const s3rver = new S3rver({ directory: options.directory, silent: true, configureBuckets: [{ name: options.bucket }] });
  const store = useEmbeddedStore(s3rver, options.directory);
  await s3rver.configureBuckets();
  const handle = s3rver.callback();
  const server = http.createServer((req, res) => {
    hasValidSignature(req, credentials).then(
      (valid) => (valid ? handle(req, res) : accessDenied(res)),
      () => accessDenied(res),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 5 * 60_000;
  await listen(server, options.port);
  const port = (server.address() as net.AddressInfo).port;
  const uploadsDir = path.join(options.directory, options.bucket, '._S3rver_uploads');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    credentials,
    async sweepIncompleteUploads(olderThanMs) {
      const entries = await fs.promises.readdir(uploadsDir, { withFileTypes: true }).catch(() => []);
      let removed = 0;
      for (const entry of entries) {
        // A directory per multipart upload, a file per PutObject still arriving (embedded-s3-store.ts).
        const upload = path.join(uploadsDir, entry.name);
        // Gone meanwhile: a PutObject that has just completed.
        const stat = await fs.promises.stat(upload).catch(() => undefined);
        if (stat && Date.now() - stat.mtimeMs > olderThanMs) {
          await fs.promises.rm(upload, { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    },
    startLocalPut: () => store.startLocalPut(options.bucket),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
}

/**
 * The embedded server's key pair: generated at first start into `file` (mode 0600) and kept, so S3 tools
 * pointed at the server keep working across restarts. Delete the file to rotate it.
 */
export function embeddedS3Credentials(file: string): S3Credentials {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const generated: S3Credentials = {
      accessKeyId: `BYOC${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
    };
    try {
      fs.writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<S3Credentials>;
  if (typeof stored.accessKeyId !== 'string' || typeof stored.secretAccessKey !== 'string') {
    throw new Error(`${file} does not hold {"accessKeyId", "secretAccessKey"}; delete it to generate new credentials.`);
  }
  return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
}

function accessDenied(res: http.ServerResponse) {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied: sign requests with the credentials in the data directory.</Message></Error>';
  res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

/** Listens on loopback; a taken port rejects (EADDRINUSE) and is reported like the other servers'. */
function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
