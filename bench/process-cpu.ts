import fs from 'node:fs';

/**
 * CPU time a process has used so far, in ms (user + system, from /proc; 0 where there is none). On a
 * machine shared with other work the CPU a path costs per request varies much less than its rate.
 * `pid` may also name one thread, as `<pid>/task/<tid>`.
 */
export function processCpuMs(pid: number | string): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU time of a process's main thread alone (where the event loop runs), in ms. */
export const mainThreadCpuMs = (pid: number) => processCpuMs(`${pid}/task/${pid}`);
