// `npm test`: node's test runner over test/*.test.ts. Decides first whether the PostgreSQL suite runs:
// with CI=true it must (PostgreSQL at TEST_DATABASE_URL, default postgres://127.0.0.1:5432/test);
// elsewhere it runs when that server answers, and the run says so when it does not.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const url = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const required = process.env.CI === 'true';
let postgres = '';
try {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.query('select 1');
  await client.end();
  postgres = url;
} catch (err) {
  if (required) {
    console.error(`PostgreSQL is required when CI=true, but ${url} is unreachable: ${err.message}`);
    process.exit(1);
  }
  console.log(`# PostgreSQL suite not run: ${url} is unreachable (${err.message}). Set TEST_DATABASE_URL to run it.`);
}
if (postgres) console.log(`# PostgreSQL suite runs against ${url}`);

const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : fs
      .readdirSync('test')
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => path.join('test', f));
// A test that hangs fails after ten minutes (the longest pass in a minute) instead of stalling the run.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, BRIDGE_TEST_POSTGRES_URL: postgres },
});
child.on('exit', (code, signal) => {
  if (!postgres) console.log('# PostgreSQL suite was not run (see the note at the top).');
  process.exit(code ?? (signal ? 1 : 0));
});
