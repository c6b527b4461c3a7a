// What a bench section returns, and the summary table of targets `npm run bench` prints and puts at the top
// of BENCHMARKS.md. A section measures; whether a figure meets its target is decided here, in one format.

/** One target of an issue, as measured in one run: its figure beside the baseline measured in the same run. */
export interface BenchTarget {
  name: string;
  /** The measured figure with its unit, e.g. "2,310 msg/s". */
  value: string;
  /** The baseline figure from the same run, e.g. "bare Express + multer 4,870 msg/s"; "" when the target has none. */
  baseline: string;
  /** value / baseline where the target is a ratio (0.47 for 47 %), otherwise null. */
  ratio: number | null;
  /** The condition, e.g. "≥ 40 % (aim 70 %)" or "< 50 ms". */
  threshold: string;
  pass: boolean;
}

export interface BenchSection {
  title: string;
  markdown: string;
  /** The issue targets this section measured, for the summary table. */
  targets?: BenchTarget[];
}

/** A target as kept in the summary: which section measured it, and when. */
export interface SummaryRow extends BenchTarget {
  section: string;
  measuredAt: string;
}

export const SUMMARY_HEADING = '## Targets';

const COLUMNS = ['target', 'measured', 'baseline (same run)', 'ratio', 'threshold', 'result', 'section', 'run'];

const cell = (text: string) => text.replace(/\|/g, '/').replace(/\n/g, ' ');
const percent = (ratio: number | null) => (ratio === null ? '–' : `${(ratio * 100).toFixed(0)} %`);

export function summaryRows(sections: BenchSection[], measuredAt: string): SummaryRow[] {
  return sections.flatMap((s) => (s.targets ?? []).map((t) => ({ ...t, section: s.title, measuredAt })));
}

/** A section's own targets as a markdown table, printed inside the section beside its figures. */
export function targetTable(targets: BenchTarget[]): string {
  return [
    '| target | value | baseline (same run) | ratio | threshold | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...targets.map(
      (t) => `| ${[t.name, t.value, t.baseline || '–', percent(t.ratio), t.threshold, t.pass ? 'PASS' : 'FAIL'].map(cell).join(' | ')} |`,
    ),
  ].join('\n');
}

/** The summary table as markdown. */
export function summaryMarkdown(rows: SummaryRow[]): string {
  const lines = [
    `| ${COLUMNS.join(' | ')} |`,
    '| --- | ---: | --- | ---: | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${[r.name, r.value, r.baseline || '–', percent(r.ratio), r.threshold, r.pass ? 'PASS' : 'FAIL', r.section, r.measuredAt].map(cell).join(' | ')} |`,
    ),
  ];
  const passed = rows.filter((r) => r.pass).length;
  return `${lines.join('\n')}\n\n${passed} of ${rows.length} targets met.`;
}

/** The summary as aligned plain text, for the console. */
export function summaryText(rows: SummaryRow[]): string {
  const table = [
    ['target', 'measured', 'baseline', 'ratio', 'threshold', 'result'],
    ...rows.map((r) => [r.name, r.value, r.baseline || '-', percent(r.ratio), r.threshold, r.pass ? 'PASS' : 'FAIL']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

/** Reads the summary rows back from a BENCHMARKS.md (for a partial run, which keeps the others' rows). */
export function parseSummary(markdown: string): SummaryRow[] {
  const start = markdown.indexOf(`${SUMMARY_HEADING}\n`);
  if (start < 0) return [];
  const block = markdown.slice(start).split(/^(?=## )/m)[0]!;
  return block
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| target ') && !line.startsWith('| ---'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    )
    .filter((c) => c.length === COLUMNS.length)
    .map(([name, value, baseline, ratio, threshold, result, section, measuredAt]) => ({
      name: name!,
      value: value!,
      baseline: baseline === '–' ? '' : baseline!,
      ratio: ratio === '–' ? null : Number.parseFloat(ratio!) / 100,
      threshold: threshold!,
      pass: result === 'PASS',
      section: section!,
      measuredAt: measuredAt!,
    }));
}
