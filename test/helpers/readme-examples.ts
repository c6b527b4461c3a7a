import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BridgeProcess } from './bridge-process.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The bash blocks between the README's curl-examples markers, with the bold title before each. */
export function readmeExamples(): Array<{ title: string; script: string }> {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = /<!-- curl-examples:start -->([\s\S]*?)<!-- curl-examples:end -->/.exec(readme)?.[1];
  assert.ok(section, 'README.md has a curl-examples section');
  return [...section.matchAll(/\*\*(.+?)\*\*[\s\S]*?```bash\n([\s\S]*?)```/g)].map((m) => ({ title: m[1]!, script: m[2]! }));
}

/** A message example (POST /interactions); the other operations' examples need a conversation from these first. */
export const isInteractionExample = (example: { script: string }) => example.script.includes('/api/v1/interactions');

/** What `eval "$(npm run -s curl-env)"` evaluates, for a running server. */
export function curlEnv(target: BridgeProcess): string {
  return execFileSync('npm', ['run', '-s', 'curl-env'], { cwd: repoRoot, env: { ...process.env, ...target.env }, encoding: 'utf8' });
}

/** Runs one README example in bash after the exports, and returns the JSON body it printed with the status. */
export function runExample(exports: string, example: { title: string; script: string }): { output: string; body: any } {
  const output = execFileSync('bash', ['-c', `set -e\n${exports}\n${example.script}`], { encoding: 'utf8' });
  const body = JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1));
  return { output, body };
}
