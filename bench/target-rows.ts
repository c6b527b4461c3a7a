// One row per issue-13 target, as each section returns them beside its markdown (the runner's summary
// table reads `targets`); targetTable() prints the same rows inside the section.

export interface TargetRow {
  name: string;
  value: string;
  baseline: string;
  ratio: number | null;
  threshold: string;
  pass: boolean;
}

export function targetTable(rows: TargetRow[]): string {
  return [
    '| target | value | baseline (same run) | ratio | threshold | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio === null ? '—' : `${Math.round(r.ratio * 100)} %`} | ${r.threshold} | ${r.pass ? 'PASS' : 'FAIL'} |`,
    ),
  ].join('\n');
}

/** Node flags that make a benchmarked server write a CPU profile into BENCH_CPU_PROF (a directory) when it stops. */
export function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
