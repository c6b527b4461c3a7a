import fs from 'node:fs';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.ts';
import { integrationRoutes } from '../management/integration-routes.ts';
import type { StoredEventsHook } from '../outbound/received-events.ts';
import type { Db } from '../store/database.ts';
import { Wakeup } from '../util/wakeup.ts';
import { ConversationValues } from './conversation-values.ts';
import { IntegrationCalls } from './integration-calls.ts';
import { IntegrationDispatcher } from './integration-dispatcher.ts';
import { IntegrationStore } from './integration-store.ts';
import { recordOutboundLifecycle } from './lifecycle-from-outbound.ts';
import { LifecycleRecorder } from './lifecycle-recorder.ts';

/**
 * Event-driven integrations in one place. `sink` takes the local org's lifecycle events (in its
 * transactions: pass the `db` the local org writes with); `outboundHook` derives them from the outbound
 * events the subscriber stores, for bridge mode; `routers` go on the management API.
 */
export function createIntegrations(deps: { config: Config; logger: Logger; db: Db }) {
  const { config, db } = deps;
  const policy = config.integrations;
  const values = new ConversationValues(db);
  // Wakes the dispatcher after a commit that added calls, a call settled, or a manual retry.
  const callsDue = new Wakeup();
  const sink = new LifecycleRecorder(values, callsDue);
  const dispatcher = new IntegrationDispatcher({
    db,
    wakeup: callsDue,
    logger: deps.logger.child({ component: 'integrations' }),
    values,
    policy: {
      retryScheduleSeconds: policy.retryScheduleSeconds,
      timeoutMs: policy.timeoutMs,
      concurrency: policy.concurrency,
      allowHttpLoopback: policy.allowHttpLoopback,
      maxAnswerBytes: policy.maxAnswerBytes,
      pollMs: policy.pollMs,
      ...(policy.caFile ? { extraCaPem: readCaFile(policy.caFile) } : {}),
    },
  });
  const outboundHook: StoredEventsHook = (tx, stored) => recordOutboundLifecycle(tx, sink, stored);
  const routers: Router[] = [
    integrationRoutes({
      integrations: new IntegrationStore(db),
      calls: new IntegrationCalls(db, callsDue),
      values,
      allowHttpLoopback: policy.allowHttpLoopback,
    }),
  ];
  return {
    sink,
    values,
    outboundHook,
    routers,
    start: () => dispatcher.start(),
    stop: () => dispatcher.stop(),
  };
}

function readCaFile(file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`INTEGRATION_CA_FILE: cannot read ${file} (${(err as Error).message})`]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError([`INTEGRATION_CA_FILE: ${file} holds no PEM certificate`]);
  return pem;
}
