// Loaded into a bridge by bench/inbound-side-by-side.ts (node --import): on SIGUSR2 it writes, to
// $ELD_DIR/<pid>.json, the event loop's delay and the wall time of each SQLite COMMIT run on the event
// loop since the last signal, then starts both over. Bench instrumentation only: it wraps
// better-sqlite3's prepare to time the statement `commit`.
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const commits = createHistogram();
let commitNs = 0n;

const Database = createRequire(path.join(process.cwd(), 'package.json'))('better-sqlite3');
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (source, ...rest) {
  const statement = prepare.call(this, source, ...rest);
  if (!/^\s*commit\s*$/i.test(source)) return statement;
  for (const method of ['run', 'all']) {
    const original = statement[method];
    statement[method] = function (...args) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const ns = process.hrtime.bigint() - started;
        commitNs += ns;
        commits.record(Number(ns / 1000n) || 1);
      }
    };
  }
  return statement;
};

process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const us = (n) => Math.round(n) / 1000;
  const out = {
    loop: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    commit: {
      count: commits.count,
      totalMs: Number(commitNs / 1000n) / 1000,
      p50: us(commits.percentile(50)),
      p99: us(commits.percentile(99)),
      max: us(commits.max),
    },
  };
  fs.writeFileSync(`${process.env.ELD_DIR}/${process.pid}.json`, JSON.stringify(out));
  delay.reset();
  commits.reset();
  commitNs = 0n;
});
