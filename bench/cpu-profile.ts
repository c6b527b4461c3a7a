// Where a process's time went, from a V8 CPU profile (`node --cpu-prof`): each sample is put in one
// category by the frames on its stack, so the shares add up to 100 %.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Categories, first match wins; `stack` holds "functionName url" from the sampled frame outwards. */
const CATEGORIES: Array<[name: string, matches: (leaf: string, stack: string[]) => boolean]> = [
  ['idle (waiting for I/O)', (leaf) => leaf.startsWith('(idle)')],
  ['garbage collection', (leaf) => leaf.startsWith('(garbage collector)')],
  [
    'SQLite COMMIT on the event loop (WAL writes; a checkpoint when the WAL reaches its bound)',
    (leaf, stack) => stack.some((f) => f.startsWith('commitTransaction ')) && /sqlite/.test(leaf),
  ],
  [
    'SQL statements run by the database (better-sqlite3, or pg protocol)',
    (leaf) =>
      /sqlite-driver\.js|better-sqlite3|node_modules\/pg(-protocol)?\/|^runOnConnection .*\/src\/store\/prepared-query\.ts/.test(leaf),
  ],
  ['Kysely (building queries, executor plumbing)', (leaf) => leaf.includes('node_modules/kysely/')],
  [
    'multipart parsing (multer, busboy) and request validation (zod, src/contract)',
    (leaf) => /multer|append-field|busboy|streamsearch|node_modules\/zod|\/src\/contract\//.test(leaf),
  ],
  [
    'HTTP, Express and middleware (security headers, logging, metrics, guard)',
    (leaf) =>
      /node:_http|node:net|express|router|helmet|pino|prom-client|on-finished|body-parser|\/src\/http\/|\/src\/metrics\//.test(leaf),
  ],
  ['the bridge\u2019s own code (src/)', (leaf) => leaf.includes('/src/')],
  ['module loading at start', (leaf, stack) => stack.some((f) => /node:internal\/modules|tsx\/dist/.test(f))],
];

/** Shares of the samples by category, largest first, after the first `skipMs` of the profile (start-up). */
export function profileShares(file: string, skipMs = 0): { category: string; share: number }[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frame = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url}`;
  const totals = new Map<string, number>();
  let elapsed = 0;
  let counted = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    elapsed += dt / 1000;
    if (elapsed < skipMs) return;
    const stack: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(frame(byId.get(cur)!));
    const category = CATEGORIES.find(([, matches]) => matches(stack[0]!, stack))?.[0] ?? 'other (Node internals, V8, streams, crypto)';
    totals.set(category, (totals.get(category) ?? 0) + dt);
    counted += dt;
  });
  return [...totals].map(([category, t]) => ({ category, share: t / counted })).sort((a, b) => b.share - a.share);
}

/** The main thread's profile in `dir` (the largest file: worker threads write their own, smaller ones). */
export function mainThreadProfile(dir: string): string | undefined {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  return files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
}

/** Node flags that make a benchmarked server write a CPU profile into BENCH_CPU_PROF (a directory) when it stops. */
export function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
