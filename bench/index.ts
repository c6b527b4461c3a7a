// `npm run bench`: runs every bench/*.bench.ts in file-name order, prints each section, and writes
// BENCHMARKS.md. A module default-exports `async () => BenchSection` (bench/targets.ts): a title, markdown
// and the issue targets it measured, which go into one summary table (target, measured, baseline from the
// same run, ratio, threshold, PASS/FAIL) printed at the end and put at the top of BENCHMARKS.md.
// `npm run bench -- NAME...` runs only the files whose names contain a NAME and replaces just their
// sections and summary rows in BENCHMARKS.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSummary, SUMMARY_HEADING, summaryMarkdown, summaryRows, summaryText, type BenchSection } from './targets.ts';

export type { BenchSection, BenchTarget } from './targets.ts';

const dir = import.meta.dirname;
const names = process.argv.slice(2);
const partial = names.length > 0;
const modules = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !partial || names.some((name) => f.includes(name)))
  .sort();
if (modules.length === 0) throw new Error(`no bench/*.bench.ts matches ${names.join(', ')}`);
const started = new Date();
const loadBefore = os.loadavg();
const sections: BenchSection[] = [];
for (const file of modules) {
  console.log(`\n# ${file}`);
  const run = (await import(pathToFileURL(path.join(dir, file)).href)).default as () => Promise<BenchSection>;
  const section = await run();
  console.log(`\n## ${section.title}\n\n${section.markdown}`);
  sections.push(section);
}
const loadAfter = os.loadavg();

const out = path.resolve(dir, '..', 'BENCHMARKS.md');
const previous = partial && fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
const ran = new Set(sections.map((s) => s.title));
const rows = [
  // A partial run keeps the other sections' rows as their last run left them (the run column says when).
  ...parseSummary(previous).filter((r) => !ran.has(r.section)),
  ...summaryRows(sections, started.toISOString().slice(0, 16).replace('T', ' ')),
];
console.log(`\n${SUMMARY_HEADING}\n\n${summaryText(rows)}`);

const cpus = os.cpus();
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
const header = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${started.toISOString()} (took ${Math.round((Date.now() - started.getTime()) / 1000)} s).`,
  `Node ${process.version}, ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM.`,
  `Load average (1, 5, 15 min) at the start: ${load(loadBefore)}; at the end: ${load(loadAfter)} on ${cpus.length} cores${
    loadBefore[0]! > cpus.length / 2
      ? ': other work shared the machine, so absolute figures are low; the ratios compare with baselines measured in the same run'
      : ''
  }.`,
  partial
    ? `Only ${sections.map((s) => `"${s.title}"`).join(', ')} ran then; the other sections come from an earlier run.`
    : 'Every figure below comes from that one run on that machine.',
].join('\n');
const summary = `${SUMMARY_HEADING}\n\nEach target of the issue as measured (ratios against a baseline measured in the same run, never in a test):\n\n${summaryMarkdown(rows)}\n`;
const blocks = sections.map((s) => `## ${s.title}\n\n${s.markdown.trim()}\n`);
// The other sections as the last run left them (the summary is written afresh).
const kept = previous
  .split(/^(?=## )/m)
  .slice(1)
  .filter((block) => !block.startsWith(`${SUMMARY_HEADING}\n`) && !sections.some((s) => block.startsWith(`## ${s.title}\n`)))
  .map((block) => block.trimEnd() + '\n');
fs.writeFileSync(out, `${header}\n\n${[summary, ...kept, ...blocks].join('\n')}`);
console.log(`\nwrote ${out}`);
