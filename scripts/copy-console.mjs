// Second step of `npm run build`: tsc emits only compiled TypeScript, but the console's pages (src/console/)
// are served as they are, so dist/ needs its own copy for `npm run start:prod` to serve / and /docs.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const target = path.join(root, 'dist', 'console');
fs.rmSync(target, { recursive: true, force: true });
fs.cpSync(path.join(root, 'src', 'console'), target, { recursive: true });
