import { randomUUID } from 'node:crypto';
import type { BridgeProcess } from '../../test/helpers/bridge-process.ts';
import { LOCAL_ORG } from '../../test/helpers/bridge-process.ts';
import { connectPubSubClient, eventRecord, TOPIC } from '../../test/helpers/outbound.ts';

const PUBLISH_BATCH = 200;

/** Publishes Spring '24 agent text events over `conversations` end users with PublishStream; returns the first replay id. */
export async function publishInteractions(bridge: BridgeProcess, count: number, conversations: number): Promise<number> {
  const client = await connectPubSubClient(bridge);
  let firstReplayId = 0;
  try {
    for (let offset = 0; offset < count; offset += PUBLISH_BATCH) {
      const events = Array.from({ length: Math.min(PUBLISH_BATCH, count - offset) }, (_, i) => {
        const id = randomUUID();
        const payload = {
          channelAddressIdentifier: LOCAL_ORG.channel,
          recipient: { appType: 'custom', subject: `bench-user-${(offset + i) % conversations}`, role: 'EndUser' },
          senderDisplayName: 'Bench Agent',
          identifier: id,
          entryType: 'Message',
          entryPayload: {
            entryType: 'Message',
            id,
            abstractMessage: {
              messageType: 'StaticContentMessage',
              id,
              staticContent: { formatType: 'Text', text: `bench ${offset + i}` },
            },
          },
          sender: { appType: 'agent', subject: LOCAL_ORG.userId, role: 'Agent' },
          transcriptedTimestamp: Date.now(),
          clientTimestamp: Date.now(),
        };
        return { id, payload: eventRecord({ payload: JSON.stringify(payload), eventType: 'Interaction' }) };
      });
      const response = await new Promise<any>((resolve, reject) => {
        void client.publishBatch(TOPIC, events, (_info: unknown, type: string, data: any) => {
          if (type === 'publishResponse') resolve(data);
          else if (type === 'error') reject(data instanceof Error ? data : new Error(JSON.stringify(data)));
        });
      });
      firstReplayId ||= response.results[0].replayId;
    }
  } finally {
    client.close();
  }
  return firstReplayId;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
