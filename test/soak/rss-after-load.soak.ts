// Soak: SOAK_SECONDS (default 30) of mixed traffic per store (text messages, attachment uploads, routing
// calls, refusals, management reads) from SOAK_CONCURRENCY (default 6) clients, then the server's RSS must
// come back within a bound of what it was after warm-up and must not keep growing from the first half of
// the load to the second. Run with `npm run soak` (CI runs it after npm test).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from '../helpers/api-client.ts';
import { attachmentRequest, filePart, jsonPart, pngLike, streamInteraction } from '../helpers/attachments.ts';
import { startBridge, storeKinds, type BridgeProcess } from '../helpers/bridge-process.ts';
import { callJson } from '../helpers/json-api.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 6);
/**
 * RSS may end this much above the warmed-up baseline: room for heap growth and allocator slack, not for a leak.
 * The server runs with --max-semi-space-size=32 (package.json), so V8's young generation may keep 2 × 32 MB
 * instead of 2 × 16 MB committed after load: 120 MB before that flag, 30 more with it. Leak-free runs
 * ended up to 89 MB above their baseline without it and 87 MB with it.
 */
const ALLOWED_GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB ?? 150);
/**
 * The second half of the load may add this much over the first: a plateau, where a leak keeps growing. Settled
 * readings of leak-free runs differed by up to 49 MB (SQLite, allocator arenas kept after 1 MB uploads) and
 * 42 MB (PostgreSQL, where a larger heap settles more slowly); a leak that matters adds more than that per 15 s
 * of this load, and the baseline bound above still holds it. With the 32 MB semi-spaces up to 32 MB more of
 * garbage may sit uncollected in the young generation at either reading (a PostgreSQL run: 256 then 321 MB),
 * hence 80 + 30.
 */
const ALLOWED_SECOND_HALF_GROWTH_MB = Number(process.env.SOAK_RSS_SECOND_HALF_GROWTH_MB ?? 110);

/** Idle seconds sampled after each half; see settledRss. */
const SETTLE_SECONDS = Number(process.env.SOAK_SETTLE_SECONDS ?? 15);

const rssMb = (pid: number) => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
};

for (const store of storeKinds()) {
  describe(`soak: RSS returns within ${ALLOWED_GROWTH_MB} MB of the baseline after ${SECONDS} s of mixed traffic (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store });
    });
    after(() => bridge.dispose());

    test('mixed traffic with uploads', { timeout: (SECONDS + 180) * 1000 }, async () => {
      const token = await accessToken(bridge);
      const files = [pngLike(64 * 1024), pngLike(512 * 1024), pngLike(1024 * 1024)];
      const statuses = new Map<number, number>();
      const accepted: string[] = [];
      const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

      const oneRequest = async (i: number) => {
        const from = `+1555${String(i % 200).padStart(7, '0')}`;
        switch (i % 6) {
          case 0:
          case 1: {
            const body = textMessage(`soak ${i}`, { from });
            const res = await postInteraction(bridge, body, { token });
            count(res.status);
            if (res.status === 202) accepted.push((body.interactions[0]!.payload as { id: string }).id);
            return;
          }
          case 2: {
            const file = files[i % files.length]!;
            const request = attachmentRequest([{ contentLength: file.length }], { from });
            const res = await streamInteraction(bridge, [jsonPart(request), filePart(file, `soak-${i}.png`, 'image/png')], { token });
            count(res.status);
            if (res.status === 202) accepted.push(request.interactions[0]!.id);
            return;
          }
          case 3: {
            const res = await callJson(
              bridge,
              'POST',
              '/route',
              { conversationIdentifier: randomUUID(), routingType: 'Initial' },
              { token },
            );
            count(res.status);
            return;
          }
          case 4: {
            const res = await postInteraction(bridge, textMessage('refused'), { token: 'not-a-token' });
            count(res.status);
            return;
          }
          default: {
            const res = await fetch(`${bridge.managementUrl}/api/conversations?limit=50`, {
              headers: { authorization: `Bearer ${bridge.adminKey}` },
            });
            await res.arrayBuffer();
            count(res.status);
          }
        }
      };

      // Warm-up: every path once, so the baseline includes loaded code and pools, not just an idle start.
      for (let i = 0; i < 60; i++) await oneRequest(i);
      await new Promise((r) => setTimeout(r, 2000));
      const baseline = rssMb(bridge.pid());

      let next = 60;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(bridge.pid()))), 500);
      const loadFor = async (seconds: number) => {
        const deadline = Date.now() + seconds * 1000;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (Date.now() < deadline) await oneRequest(next++);
          }),
        );
      };
      /** The server's own reading of its V8 heap (the metrics endpoint): where a leak in JavaScript objects shows. */
      const heapUsedMb = async () => {
        const text = await (await fetch(`${bridge.managementUrl}/metrics`)).text();
        return Number(/^byoc_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]) / 2 ** 20;
      };
      /**
       * RSS once the server has had its idle time to come back: the lowest of SETTLE_SECONDS samples. V8's memory
       * reducer only starts collecting several seconds after allocation stops, and buffers from uploads go back to
       * the allocator with it; five seconds of samples caught RSS before that and made the halves differ by noise
       * (246 then 295 MB in one CI run, while 150 s runs swing 250-400 MB and end where they began).
       */
      const settledRss = async () => {
        let lowest = Infinity;
        for (let i = 0; i < SETTLE_SECONDS; i++) {
          await new Promise((r) => setTimeout(r, 1000));
          lowest = Math.min(lowest, rssMb(bridge.pid()));
        }
        return lowest;
      };
      // Two equal halves: heap and pools grow during the first and plateau; a leak keeps growing in the second.
      await loadFor(SECONDS / 2);
      const half = await settledRss();
      const heapAtHalf = await heapUsedMb();
      await loadFor(SECONDS / 2);
      const settled = await settledRss();
      const heapAtEnd = await heapUsedMb();
      clearInterval(sampler);
      console.log(
        `# soak (${store}): ${next - 60} requests in ${SECONDS} s, statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
          `RSS baseline ${baseline.toFixed(0)} MB, after the first half ${half.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${settled.toFixed(0)} MB; ` +
          `V8 heap used ${heapAtHalf.toFixed(0)} MB after the first half, ${heapAtEnd.toFixed(0)} MB after the second`,
      );
      assert.ok(![...statuses.keys()].some((s) => s >= 500), `no 5xx: ${JSON.stringify(Object.fromEntries(statuses))}`);
      assert.ok(
        settled <= baseline + ALLOWED_GROWTH_MB,
        `RSS ${settled.toFixed(0)} MB > baseline ${baseline.toFixed(0)} + ${ALLOWED_GROWTH_MB} MB`,
      );
      assert.ok(
        settled <= half + ALLOWED_SECOND_HALF_GROWTH_MB,
        `RSS kept growing: ${half.toFixed(0)} MB after the first half, ${settled.toFixed(0)} MB after the second`,
      );

      // Accepted means kept: every accepted entry is in the store.
      const stored = new Set<string>();
      const { conversations } = await bridge.management('/api/conversations?limit=1000');
      for (const c of conversations as Array<{ conversationIdentifier: string }>) {
        const { entries } = await bridge.management(`/api/conversations/${c.conversationIdentifier}`);
        for (const e of entries as Array<{ entryId: string }>) stored.add(e.entryId);
      }
      const missing = accepted.filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], 'every accepted entry is stored');
    });
  });
}
