import { spawn } from 'node:child_process';
import path from 'node:path';

export interface BenchProcess {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

/** Starts one of the bench/bridge processes that print their port on stdout; resolves with its URL and a stop(). */
async function startPortPrinter(script: string, args: string[] = []): Promise<BenchProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) {
          resolve();
          return;
        }
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** The org stand-in (bench/bridge/org-stand-in.ts). */
export const startOrgStandIn = () => startPortPrinter('org-stand-in.ts');

/** A bare pass-through proxy in front of the stand-in (bench/bridge/pass-through-proxy.ts). */
export const startPassThroughProxy = (standInUrl: string) => startPortPrinter('pass-through-proxy.ts', [standInUrl]);
