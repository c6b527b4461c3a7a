// What the side-by-side scripts (bench/**/side-by-side.ts) share: the versions they compare, and the
// busy-time shares of each version's CPU profile.
import path from 'node:path';
import type { startBridge } from '../test/helpers/bridge-process.ts';
import { mainThreadProfile, profileShares } from './cpu-profile.ts';

type StartBridge = typeof startBridge;

/**
 * The versions named in BASE (comma-separated directories, each a copy of another commit: `git archive
 * <commit> | tar -x -C dir` and a symlink to this checkout's node_modules), each with its own test helper's
 * startBridge, after `own`.
 */
export async function withBaseVersions(own: [string, StartBridge][]): Promise<[string, StartBridge][]> {
  const versions = [...own];
  for (const base of process.env.BASE?.split(',').filter(Boolean) ?? []) {
    const other = (await import(path.join(path.resolve(base), 'test/helpers/bridge-process.ts'))) as { startBridge: StartBridge };
    versions.push([`BASE ${base}`, other.startBridge]);
  }
  return versions;
}

export interface ProfiledSide {
  name: string;
  profileDir: string;
  startedAt: number;
  warmedAt: number;
  bridge: { stop(): Promise<unknown> };
}

/** Stops each side's bridge (which writes its profile) and prints where its busy time went after warm-up. */
export async function printBusyShares(sides: ProfiledSide[]): Promise<void> {
  for (const s of sides) {
    await s.bridge.stop();
    const file = mainThreadProfile(s.profileDir);
    if (!file) continue;
    // Busy time only: while the other version is loaded this one idles.
    const shares = profileShares(file, s.warmedAt - s.startedAt).filter((c) => !c.category.startsWith('idle'));
    const busy = shares.reduce((x, c) => x + c.share, 0);
    console.log(`\nwhere ${s.name}'s busy time went:`);
    for (const c of shares) console.log(`${((c.share / busy) * 100).toFixed(1).padStart(5)} %  ${c.category}`);
  }
}
