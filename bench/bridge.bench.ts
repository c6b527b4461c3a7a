// Bridge mode's cost: text Message interactions sent straight to an org process, and the same through a
// bridge process in front of it, in the same run, at the same fixed concurrency.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { accessToken, multipartField } from '../test/helpers/api-client.ts';
import { bridgeModeEnv, LOCAL_ORG, startBridge, type BridgeProcess } from '../test/helpers/bridge-process.ts';

const CONNECTIONS = 16;
const DURATION_SECONDS = 8;

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(target: BridgeProcess, token: string): Promise<Figures> {
  const result = await autocannon({
    url: `${target.baseUrl.replace('localhost', '127.0.0.1')}/api/v1/interactions`,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const id = randomUUID();
          const json = JSON.stringify({
            to: LOCAL_ORG.channel,
            from: `bench-${id.slice(0, 4)}`,
            interactions: [
              {
                timestamp: Date.now(),
                interactionType: 'EntryInteraction',
                payload: {
                  id,
                  entryType: 'Message',
                  abstractMessage: {
                    messageType: 'StaticContentMessage',
                    id,
                    staticContent: { formatType: 'Text', text: 'benchmark message' },
                  },
                },
              },
            ],
          });
          const part = multipartField('json', json, 'application/json');
          return {
            ...req,
            headers: {
              authorization: `Bearer ${token}`,
              orgid: LOCAL_ORG.orgId,
              authorizationcontext: LOCAL_ORG.authorizationContext,
              requestid: randomUUID(),
              'content-type': `multipart/form-data; boundary=${part.boundary}`,
            },
            body: part.body,
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export default async function bridgeBenchmark(): Promise<{ title: string; markdown: string }> {
  const quiet = { LOG_LEVEL: 'warn' };
  const org = await startBridge({ env: quiet });
  let bridge: BridgeProcess | undefined;
  try {
    bridge = await startBridge({
      env: { ...quiet, ...bridgeModeEnv(org) },
    });
    const direct = await load(org, await accessToken(org));
    const viaBridge = await load(bridge, await accessToken(bridge));
    const row = (name: string, f: Figures) =>
      `| ${name} | ${f.requestsPerSecond.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.non2xx + f.errors} |`;
    const markdown = [
      `Text Message interactions (multipart, full guard + idempotency + durable commit in each process), ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, both processes on this machine.`,
      '',
      '| path | requests/s | p50 ms | p99 ms | non-2xx + errors |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('partner → org process directly (baseline)', direct),
      row('partner → bridge → org process', viaBridge),
      '',
      `Added latency through the bridge: p50 +${(viaBridge.p50 - direct.p50).toFixed(1)} ms, p99 +${(viaBridge.p99 - direct.p99).toFixed(1)} ms; ` +
        `throughput ${((viaBridge.requestsPerSecond / direct.requestsPerSecond) * 100).toFixed(0)} % of direct. ` +
        'The bridge does its own token check, validation and idempotency commit, then one HTTP round trip to the org; on 2 cores the two processes and the load generator share the CPU.',
    ].join('\n');
    return { title: 'Bridge mode: added latency and throughput', markdown };
  } finally {
    await bridge?.dispose();
    await org.dispose();
  }
}
