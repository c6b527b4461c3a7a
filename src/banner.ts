import type { Config } from './config.ts';
import type { SeededOrg } from './local-org/seed.ts';
import type { Store } from './store/database.ts';

/** The short start-up summary: where things listen and the identifiers the curl examples need. */
export function printBanner(p: {
  config: Config;
  org: SeededOrg;
  store: Store;
  apiPort: number;
  managementPort: number;
  adminKeySource: string;
  attachmentsAt: string;
  readyMs: number;
  pubSub?: { port: number; topicName: string };
}) {
  const host = p.config.host === '0.0.0.0' ? 'localhost' : p.config.host;
  const lines = [
    '',
    p.config.salesforce
      ? `BYOC bridge — bridge mode to ${p.config.salesforce.scrtInstanceUrl} (org ${p.config.salesforce.orgId}), ready in ${p.readyMs} ms`
      : `BYOC bridge — local org mode, ready in ${p.readyMs} ms`,
    `  Interaction API + OAuth  ${p.config.publicBaseUrl}  (listening on ${host}:${p.apiPort})`,
    `  Management API           http://${host}:${p.managementPort}  (admin key: ${p.adminKeySource})`,
    ...(p.pubSub ? [`  Pub/Sub API (gRPC, TLS)  localhost:${p.pubSub.port}  topic ${p.pubSub.topicName}`] : []),
    `  Store                    ${p.store.dialect} ${p.store.location}`,
    `  Attachments              ${p.attachmentsAt}`,
    `  Org id                   ${p.org.orgId}`,
    `  Consumer key             ${p.org.consumerKey}  (certificate ${p.config.certsDir}/server.crt)`,
    `  Username                 ${p.org.username}  (${p.org.userId})`,
    `  Channel address id       ${p.org.channelAddressIdentifier}`,
    `  AuthorizationContext     ${p.org.authorizationContext}  (routing owner ${p.org.routingOwner}, consent owner ${p.org.consentOwner})`,
    '',
    `  Try it:  eval "$(npm run -s curl-env)"   then the curl examples in the README`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
