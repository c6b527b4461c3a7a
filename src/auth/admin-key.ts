import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The management API's key: ADMIN_KEY when set, else one generated once into DATA_DIR/admin-key. */
export function resolveAdminKey(options: { adminKey?: string; dataDir: string }): { key: string; source: string } {
  if (options.adminKey) return { key: options.adminKey, source: 'ADMIN_KEY' };
  const file = path.join(options.dataDir, 'admin-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return { key: fs.readFileSync(file, 'utf8').trim(), source: file };
}

export function adminKeyMatches(expected: string, presented: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
