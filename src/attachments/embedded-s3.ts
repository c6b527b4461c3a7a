import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import S3rver from 's3rver';

/** Credentials s3rver accepts out of the box; the embedded server listens on loopback only. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  /**
   * Deletes the parts of multipart uploads started more than `olderThanMs` ago and never completed: what
   * an S3 lifecycle rule (AbortIncompleteMultipartUpload) does. s3rver does not implement
   * AbortMultipartUpload (405), so the parts of a refused upload stay in a directory of its own, not
   * listed as objects, until this removes them.
   */
  sweepIncompleteUploads(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts an S3-compatible server in this process, keeping its objects as files under `directory`. */
export async function startEmbeddedS3(options: { directory: string; port: number; bucket: string }): Promise<EmbeddedS3> {
  fs.mkdirSync(options.directory, { recursive: true });
  // s3rver's run() never hears of a failed bind (Node reports it as an 'error' event, which would crash
  // the process), so a taken port is found here first and reported like any other.
  if (options.port !== 0) await assertPortFree('127.0.0.1', options.port);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket }],
  });
  const address = await server.run();
  const uploadsDir = path.join(options.directory, options.bucket, '._S3rver_uploads');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    async sweepIncompleteUploads(olderThanMs) {
      const entries = await fs.promises.readdir(uploadsDir, { withFileTypes: true }).catch(() => []);
      let removed = 0;
      for (const entry of entries) {
        const dir = path.join(uploadsDir, entry.name);
        const { mtimeMs } = await fs.promises.stat(dir);
        if (entry.isDirectory() && Date.now() - mtimeMs > olderThanMs) {
          await fs.promises.rm(dir, { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    },
    close: () => server.close(),
  };
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
