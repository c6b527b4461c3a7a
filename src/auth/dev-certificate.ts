import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface DevCertificate {
  keyPath: string;
  certPath: string;
  privateKeyPem: string;
  certificatePem: string;
  created: boolean;
}

/**
 * Returns the connected app's key pair from `certs/server.key` and `certs/server.crt`, creating a
 * self-signed RSA 2048 pair on first use. Files someone put there (e.g. with the openssl recipe) are used as they are.
 */
export async function ensureDevCertificate(certsDir: string): Promise<DevCertificate> {
  const keyPath = path.join(certsDir, 'server.key');
  const certPath = path.join(certsDir, 'server.crt');
  const haveKey = fs.existsSync(keyPath);
  const haveCert = fs.existsSync(certPath);
  if (haveKey !== haveCert) {
    throw new Error(
      `${haveKey ? certPath : keyPath} is missing while ${haveKey ? keyPath : certPath} exists: provide both files, or remove both to have a new pair generated`,
    );
  }
  let created = false;
  if (!haveKey) {
    const notBeforeDate = new Date(Date.now() - 60_000);
    const pems = await generate(
      [
        { name: 'commonName', value: 'localhost' },
        { name: 'organizationName', value: 'BYOC bridge dev' },
      ],
      {
        keySize: 2048,
        algorithm: 'sha256',
        notBeforeDate,
        notAfterDate: new Date(notBeforeDate.getTime() + 3 * 365 * 24 * 3600 * 1000),
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
          },
        ],
      },
    );
    fs.mkdirSync(certsDir, { recursive: true });
    writeExclusive(keyPath, pems.private, 0o600);
    writeExclusive(certPath, pems.cert, 0o644);
    created = true;
  }
  return {
    keyPath,
    certPath,
    privateKeyPem: fs.readFileSync(keyPath, 'utf8'),
    certificatePem: fs.readFileSync(certPath, 'utf8'),
    created,
  };
}

function writeExclusive(file: string, content: string, mode: number) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}
