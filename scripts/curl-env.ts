// Prints `export` lines for the README's curl examples, after getting a real access token from the
// running server with the JWT bearer flow:  eval "$(npm run -s curl-env)"
import fs from 'node:fs';
import path from 'node:path';
import { resolveAdminKey } from '../src/auth/admin-key.ts';
import { signAssertion } from '../src/auth/assertion-signer.ts';
import { loadConfig } from '../src/config.ts';
import { toFifteenCharId } from '../src/contract/salesforce-ids.ts';

const config = loadConfig();
const keyPath = path.join(config.certsDir, 'server.key');
if (!fs.existsSync(keyPath)) {
  console.error(`curl-env: ${keyPath} does not exist yet. Start the bridge once with \`npm start\`; it creates the dev key pair.`);
  process.exit(1);
}
const loginUrl = config.publicBaseUrl;
const org = config.localOrg;
const assertion = await signAssertion(fs.readFileSync(keyPath, 'utf8'), {
  consumerKey: org.consumerKey,
  username: org.username,
  audience: loginUrl,
});

let response: Response;
try {
  response = await fetch(`${loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
  });
} catch (err) {
  const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  console.error(`curl-env: cannot reach ${loginUrl} (${cause}). Is the bridge running? Start it with \`npm start\`.`);
  process.exit(1);
}
const body = (await response.json().catch(() => ({}))) as Record<string, string>;
if (!response.ok || !body.access_token) {
  console.error(`curl-env: the token endpoint refused the assertion: ${response.status} ${JSON.stringify(body)}`);
  process.exit(1);
}

/** The first seeded record of a kind; the configuration requires at least one of each. */
function first<T>(records: readonly T[], kind: string): T {
  const [record] = records;
  if (record === undefined) throw new Error(`curl-env: the local org has no ${kind}`);
  return record;
}

const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const vars: Record<string, string> = {
  BASE_URL: body.instance_url ?? loginUrl,
  ACCESS_TOKEN: body.access_token,
  ORG_ID: first(body.access_token.split('!'), 'org id in the access token'),
  AUTHORIZATION_CONTEXT: config.salesforce?.defaultAuthorizationContext ?? org.authorizationContext,
  CHANNEL_ADDRESS_IDENTIFIER: org.channelAddressIdentifier,
  END_USER_CLIENT_IDENTIFIER: org.endUserClientIdentifier,
  QUEUE_ID: toFifteenCharId(first(org.queues, 'queue').queueId),
  FLOW_ID: toFifteenCharId(first(org.flows, 'flow').flowId),
  AGENT_USER_ID: toFifteenCharId(first(org.agentUsers, 'agent user').userId),
  CONSUMER_KEY: org.consumerKey,
  USERNAME: org.username,
  LOGIN_URL: loginUrl,
  MANAGEMENT_URL: `http://${host}:${config.managementPort}`,
  ADMIN_KEY: resolveAdminKey({ adminKey: config.adminKey, dataDir: config.dataDir }).key,
};
for (const [name, value] of Object.entries(vars)) console.log(`export ${name}=${quote(value)}`);
