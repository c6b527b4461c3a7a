import fs from 'node:fs';
import S3rver from 's3rver';

/** Credentials s3rver accepts out of the box; the embedded server listens on loopback only. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Starts an S3-compatible server in this process, keeping its objects as files under `directory`. */
export async function startEmbeddedS3(options: { directory: string; port: number; bucket: string }): Promise<EmbeddedS3> {
  fs.mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket }],
  });
  const address = await server.run();
  return { endpoint: `http://127.0.0.1:${address.port}`, port: address.port, close: () => server.close() };
}
