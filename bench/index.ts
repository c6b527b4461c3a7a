// `npm run bench`: runs every bench/*.bench.ts in file-name order, prints each section, and writes
// BENCHMARKS.md. A module default-exports `async () => ({ title, markdown })`. `npm run bench -- NAME...`
// runs only the files whose names contain a NAME and replaces just their sections in BENCHMARKS.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BenchSection {
  title: string;
  markdown: string;
}

const dir = import.meta.dirname;
const modules = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => process.argv.length <= 2 || process.argv.slice(2).some((name) => f.includes(name)))
  .sort();
const started = new Date();
const sections: BenchSection[] = [];
for (const file of modules) {
  console.log(`\n# ${file}`);
  const run = (await import(pathToFileURL(path.join(dir, file)).href)).default as () => Promise<BenchSection>;
  const section = await run();
  console.log(`\n## ${section.title}\n\n${section.markdown}`);
  sections.push(section);
}

const cpus = os.cpus();
const header = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${started.toISOString()} (took ${Math.round((Date.now() - started.getTime()) / 1000)} s).`,
  `Node ${process.version}, ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM.`,
  process.argv.length > 2
    ? `Only ${sections.map((s) => `"${s.title}"`).join(', ')} ran then; the other sections come from an earlier run.`
    : 'Every figure below comes from that one run on that machine; other processes may have shared it.',
].join('\n');
const out = path.resolve(dir, '..', 'BENCHMARKS.md');
const blocks = sections.map((s) => `## ${s.title}\n\n${s.markdown.trim()}\n`);
if (process.argv.length > 2 && fs.existsSync(out)) {
  // A partial run keeps the other sections as the last full run left them, and says so.
  const kept = fs
    .readFileSync(out, 'utf8')
    .split(/^(?=## )/m)
    .slice(1)
    .filter((block) => !sections.some((s) => block.startsWith(`## ${s.title}\n`)))
    .map((block) => block.trimEnd() + '\n');
  fs.writeFileSync(out, `${header}\n\n${[...kept, ...blocks].join('\n')}`);
} else {
  fs.writeFileSync(out, `${header}\n\n${blocks.join('\n')}`);
}
console.log(`\nwrote ${out}`);
