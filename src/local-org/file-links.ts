import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** How long a published file link works: a partner may fetch late (a webhook retried, a dead letter redelivered by hand). */
export const FILE_LINK_TTL_SECONDS = 7 * 24 * 3600;

/** Where the links are served: on the Interaction API's port, the one the partner already reaches. */
export const FILE_LINK_PATH = '/files';

/**
 * The links an agent file is published with: `PUBLIC_BASE_URL/files/{attachmentId}?expires=&signature=`,
 * the signature an HMAC-SHA256 over the path and the expiry time with a secret only the bridge holds
 * (DATA_DIR/file-link-secret, made on first start). The link is the partner's credential for that one
 * file until it expires: changing the id or the expiry breaks the signature.
 */
export class FileLinks {
  constructor(
    private readonly secret: Buffer,
    private readonly publicBaseUrl: string,
    private readonly ttlSeconds = FILE_LINK_TTL_SECONDS,
  ) {}

  /** The secret under DATA_DIR, created once; replicas serving each other's links need the same file. */
  static fromDataDir(dataDir: string, publicBaseUrl: string): FileLinks {
    const file = path.join(dataDir, 'file-link-secret');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      try {
        fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return new FileLinks(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url'), publicBaseUrl);
  }

  urlFor(attachmentId: string, now = Date.now()): string {
    const pathname = pathOf(attachmentId);
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    return `${this.publicBaseUrl}${pathname}?expires=${expires}&signature=${this.sign(pathname, expires)}`;
  }

  /** Why a link is refused, or undefined when it is good: signed by this bridge for this file, and not expired. */
  refusal(attachmentId: string, expires: unknown, signature: unknown, now = Date.now()): string | undefined {
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string') {
      return 'The link is not a signed file link: it needs its expires and signature.';
    }
    const expected = Buffer.from(this.sign(pathOf(attachmentId), Number(expires)));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'The link’s signature does not match it.';
    if (Number(expires) * 1000 <= now) return 'The link has expired.';
    return undefined;
  }

  private sign(pathname: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${pathname}\n${expires}`).digest('base64url');
  }
}

const pathOf = (attachmentId: string) => `${FILE_LINK_PATH}/${encodeURIComponent(attachmentId)}`;
