import type { Config } from './config.ts';
import { toFifteenCharId } from './contract/salesforce-ids.ts';

/**
 * The values the README's curl examples use, except the access token (minted by `npm run -s curl-env`)
 * and the admin key: printed by curl-env, shown with copy buttons by the console (`GET /api/org`).
 */
export function curlEnvValues(config: Config): Record<string, string> {
  const org = config.localOrg;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return {
    BASE_URL: config.publicBaseUrl,
    ORG_ID: config.salesforce?.orgId ?? org.orgId,
    AUTHORIZATION_CONTEXT: config.salesforce?.defaultAuthorizationContext ?? org.authorizationContext,
    CHANNEL_ADDRESS_IDENTIFIER: org.channelAddressIdentifier,
    END_USER_CLIENT_IDENTIFIER: org.endUserClientIdentifier,
    QUEUE_ID: toFifteenCharId(first(org.queues).queueId),
    FLOW_ID: toFifteenCharId(first(org.flows).flowId),
    AGENT_USER_ID: toFifteenCharId(first(org.agentUsers).userId),
    CONSUMER_KEY: org.consumerKey,
    USERNAME: org.username,
    LOGIN_URL: config.publicBaseUrl,
    MANAGEMENT_URL: `http://${host}:${config.managementPort}`,
  };
}

/** The config schema requires at least one queue, flow and agent user. */
function first<T>(list: readonly T[]): T {
  const [item] = list;
  if (item === undefined) throw new Error('the local org config lists none');
  return item;
}
