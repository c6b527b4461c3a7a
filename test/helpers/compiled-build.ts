import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
/** Written after a build succeeds; its time says which sources the build has seen. */
const stamp = path.join(root, 'dist', '.build-stamp');
/** Test processes run in parallel: one builds while the others wait for its stamp. */
const lock = path.join(root, 'dist.build-lock');
const STALE_LOCK_MS = 120_000;

/** The compiled entry point (`npm run build`), built first when any file under src/ is newer than the last build. */
export async function compiledMain(): Promise<string> {
  for (;;) {
    if (!isStale()) return path.join(root, 'dist', 'main.js');
    let fd: number;
    try {
      fd = fs.openSync(lock, 'wx');
    } catch {
      // Someone else builds; a lock left by a crashed build is taken over once it is old.
      if (Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > STALE_LOCK_MS)
        fs.rmSync(lock, { force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (isStale()) {
        const startedAt = Date.now();
        await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
          cwd: root,
        });
        fs.writeFileSync(stamp, '');
        // Sources saved during the build are newer than its start: the next call builds again.
        fs.utimesSync(stamp, new Date(startedAt), new Date(startedAt));
      }
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
}

function isStale(): boolean {
  const built = fs.statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return true;
  const newest = (dir: string): number =>
    Math.max(
      fs.statSync(dir).mtimeMs,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs;
      }),
    );
  return Math.max(newest(path.join(root, 'src')), fs.statSync(path.join(root, 'tsconfig.build.json')).mtimeMs) > built;
}
