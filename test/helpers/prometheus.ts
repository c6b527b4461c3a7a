/** The Prometheus text format, read just enough to find samples by name and labels. */
export interface Scrape {
  text: string;
  help: Set<string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

export function parsePrometheus(text: string): Scrape {
  const help = new Set<string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const h = /^# HELP (\S+) /.exec(line);
    if (h) help.add(h[1]!);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { text, help, samples };
}

/** The value of the sample with exactly these labels, or undefined when there is none. */
export function sampleValue(scrape: Scrape, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels);
  return scrape.samples.find(
    (s) => s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v),
  )?.value;
}
