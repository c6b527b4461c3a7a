import type { BridgeProcess } from './bridge-process.ts';

/**
 * What a refused request must leave as it was, read through the management API: the conversations with
 * their entry counts, and the org (channels, connected apps, users, queues, flows).
 */
export async function stateViews(bridge: BridgeProcess): Promise<string> {
  const [conversations, org] = await Promise.all([bridge.management('/api/conversations?limit=1000'), bridge.management('/api/org')]);
  return JSON.stringify({ conversations, org });
}
