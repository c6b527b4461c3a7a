import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { readSalesforceSettings } from './crm/salesforce/salesforce-settings.ts';
import { PAYLOAD_SHAPES } from './contract/outbound-event.ts';
import { hasSalesforceIdShape, KeyPrefix, toEighteenCharId } from './contract/salesforce-ids.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveSeconds = z.coerce.number().int().positive();
const ownerEnum = z.enum(['Salesforce', 'Partner']);
const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
);

const avroFieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a field API name (letters, digits, underscores)');

const salesforceId = (prefix: string) =>
  z
    .string()
    .refine((v) => hasSalesforceIdShape(v), 'must be a 15 or 18 character Salesforce id')
    .refine((v) => v.startsWith(prefix), `must start with ${prefix}`)
    .transform((v) => toEighteenCharId(v));

/** `id:name,id:name` pairs: seeded records of the local org (queues, flows, agent users). */
const idNameList = (prefix: string) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .refine(
              (v) => /^[^:]+:\S+$/.test(v) && hasSalesforceIdShape(v.slice(0, v.indexOf(':'))),
              `each item must be "<${prefix}... id>:<name>"`,
            )
            .refine((v) => v.startsWith(prefix), `each id must start with ${prefix}`)
            .transform((v) => {
              const at = v.indexOf(':');
              return { id: toEighteenCharId(v.slice(0, at)), name: v.slice(at + 1) };
            }),
        )
        .min(1, 'needs at least one "<id>:<name>" item'),
    );

/** Retry delays: "5,30,120" (seconds, fractions allowed). */
const secondsList = z.string().transform((s, ctx) => {
  const delays = s.split(',').map((v) => Number(v.trim()));
  if (delays.some((d) => !Number.isFinite(d) || d < 0))
    ctx.addIssue({ code: 'custom', message: 'must be a comma separated list of non-negative seconds' });
  return delays;
});

const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(8085),
  MANAGEMENT_PORT: port.default(7080),
  PUBLIC_BASE_URL: z.url().optional(),
  DATA_DIR: z.string().default('./data'),
  CERTS_DIR: z.string().default('./certs'),
  DATABASE_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),

  LOCAL_ORG_ID: salesforceId(KeyPrefix.Org).prefault('00D5g000004Byoc'),
  LOCAL_USER_ID: salesforceId(KeyPrefix.User).prefault('0055g00000Byoc1'),
  LOCAL_USERNAME: z.string().min(1).default('integration.user@byoc.local'),
  LOCAL_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  LOCAL_CONSUMER_KEY: z.string().min(8).default('3MVG9BYOC.LocalOrg.ConnectedApp.Key'),
  LOCAL_CHANNEL_ADDRESS_IDENTIFIER: z.string().min(1).max(240).default('7a1f3c52-6d0e-4b8a-9f21-5c3e8d4b2a10'),
  LOCAL_AUTHORIZATION_CONTEXT: z.string().min(1).default('Local_BYOC_Channel'),
  LOCAL_ROUTING_OWNER: ownerEnum.default('Salesforce'),
  LOCAL_CONSENT_OWNER: ownerEnum.default('Partner'),
  LOCAL_END_USER_CLIENT_IDENTIFIER: z.string().min(1).max(255).default('+15555550100'),
  LOCAL_QUEUES: idNameList(KeyPrefix.Queue).prefault('00G5g00000ByQ01:Support_Queue,00G5g00000ByQ02:Sales_Queue'),
  LOCAL_FLOWS: idNameList(KeyPrefix.Flow).prefault('3005g00000ByF01:Partner_Routing_Flow'),
  LOCAL_AGENT_USERS: idNameList(KeyPrefix.User).prefault('0055g00000ByA01:agent.one@byoc.local,0055g00000ByA02:agent.two@byoc.local'),
  LOCAL_CHANNEL_ROUTING_QUEUE_ID: salesforceId(KeyPrefix.Queue).optional(),
  LOCAL_CHANNEL_ROUTING_FLOW_ID: salesforceId(KeyPrefix.Flow).optional(),
  LOCAL_ROUTING_ATTRIBUTE_MAX_LENGTH: z.coerce.number().int().positive().default(255),

  ACCEPTED_AUDIENCES: commaList.optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveSeconds.default(7200),
  ASSERTION_MAX_LIFETIME_SECONDS: positiveSeconds.default(366 * 24 * 3600),
  ASSERTION_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).default(180),
  IDEMPOTENCY_TTL_SECONDS: positiveSeconds.default(24 * 3600),
  JSON_BODY_LIMIT_BYTES: positiveSeconds.default(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: positiveSeconds.default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveSeconds.default(120_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveSeconds.default(5_000),

  S3_ENDPOINT: z.url().optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)')
    .default('byoc-attachments'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  S3_PORT: port.default(4568),
  ATTACHMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
  PUBSUB_PORT: port.default(7443),
  SF_PUB_SUB_TOPIC_NAME: z
    .string()
    .regex(/^\/event\/\w+__e$/, 'must look like /event/Name__e')
    .default('/event/BYOC_Outbound_Event__e'),
  SF_PUB_SUB_CUSTOM_EVENT_CHANNEL_ADDRESS_ID_FIELD: avroFieldName.default('ChannelAddressIdentifier__c'),
  SF_PUB_SUB_CUSTOM_EVENT_PAYLOAD_FIELD: avroFieldName.default('Payload__c'),
  SF_PUB_SUB_CUSTOM_EVENT_RECIPIENT_FIELD: avroFieldName.default('Recipient__c'),
  SF_PUB_SUB_CUSTOM_EVENT_TYPE_FIELD: avroFieldName.default('EventType__c'),
  LOCAL_OUTBOUND_EVENT_SHAPE: z.enum(PAYLOAD_SHAPES).default('spring24'),
  OUTBOUND_EVENT_RETENTION_HOURS: positiveSeconds.default(72),
  RECEIVED_EVENT_RETENTION_HOURS: positiveSeconds.default(168),
  PUBSUB_KEEPALIVE_SECONDS: positiveSeconds.default(30),
  PUBSUB_POLL_MS: positiveSeconds.default(250),
  OUTBOUND_LOCK_POLL_MS: z.coerce.number().int().min(50).default(2000),
  OUTBOUND_SUBSCRIBE_FROM: z.enum(['earliest', 'latest']).default('earliest'),
  WEBHOOK_RETRY_SCHEDULE_SECONDS: secondsList.default([5, 30, 120, 600, 1800, 3600, 10800, 21600]),
  WEBHOOK_TIMEOUT_MS: positiveSeconds.default(10_000),
  WEBHOOK_CONCURRENCY: positiveSeconds.default(16),
  WEBHOOK_PIPELINE_DEPTH: z.coerce.number().int().min(1).max(1000).default(32),
  INTEGRATION_RETRY_SCHEDULE_SECONDS: secondsList.default([5, 30, 120, 600, 1800]),
  INTEGRATION_TIMEOUT_MS: positiveSeconds.default(10_000),
  INTEGRATION_CONCURRENCY: positiveSeconds.default(8),
  INTEGRATION_CA_FILE: z.string().min(1).optional(),
  INTEGRATION_ALLOW_HTTP_LOOPBACK: z.enum(['true', 'false']).default('false'),
  INTEGRATION_MAX_ANSWER_BYTES: positiveSeconds.default(1024 * 1024),
  INTEGRATION_POLL_MS: positiveSeconds.default(2000),
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).default(5),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
});

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads `.env` (if present) and the environment once, and returns a validated, typed configuration. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { readDotEnv?: boolean } = {}): Config {
  if (options.readDotEnv ?? true) dotenv.config({ quiet: true });
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // SF_SCRT_INSTANCE_URL switches to bridge mode: the bridge forwards to that real org.
  const salesforce = cleaned.SF_SCRT_INSTANCE_URL ? readSalesforceSettings(cleaned as Record<string, string>) : undefined;
  problems.push(...(salesforce?.problems ?? []));
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  return buildConfig(parsed.data, salesforce?.settings);
}

function buildConfig(e: z.infer<typeof envSchema>, salesforce?: ReturnType<typeof readSalesforceSettings>['settings']) {
  const channelQueue =
    e.LOCAL_CHANNEL_ROUTING_QUEUE_ID === undefined
      ? e.LOCAL_QUEUES[0]
      : e.LOCAL_QUEUES.find((q) => q.id === e.LOCAL_CHANNEL_ROUTING_QUEUE_ID);
  const problems: string[] = [];
  if (!channelQueue) problems.push('LOCAL_CHANNEL_ROUTING_QUEUE_ID: must be one of LOCAL_QUEUES');
  if (e.LOCAL_CHANNEL_ROUTING_FLOW_ID && !e.LOCAL_FLOWS.some((f) => f.id === e.LOCAL_CHANNEL_ROUTING_FLOW_ID)) {
    problems.push('LOCAL_CHANNEL_ROUTING_FLOW_ID: must be one of LOCAL_FLOWS');
  }
  if (e.LOCAL_AGENT_USERS.some((a) => a.id === e.LOCAL_USER_ID || a.name === e.LOCAL_USERNAME)) {
    problems.push('LOCAL_AGENT_USERS: must not name the integration user (LOCAL_USER_ID / LOCAL_USERNAME)');
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  if (e.SHUTDOWN_DELAY_SECONDS >= e.SHUTDOWN_TIMEOUT_SECONDS) {
    problems.push('SHUTDOWN_DELAY_SECONDS: must be less than SHUTDOWN_TIMEOUT_SECONDS (the drain happens within the timeout)');
  }
  if (problems.length || !channelQueue) throw new ConfigError(problems);
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    mode: salesforce ? ('bridge' as const) : ('local-org' as const),
    salesforce,
    host: e.HOST,
    port: e.PORT,
    managementPort: e.MANAGEMENT_PORT,
    publicBaseUrl,
    dataDir,
    certsDir: path.resolve(e.CERTS_DIR),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    adminKey: e.ADMIN_KEY,
    localOrg: {
      orgId: e.LOCAL_ORG_ID,
      userId: e.LOCAL_USER_ID,
      username: e.LOCAL_USERNAME,
      password: e.LOCAL_PASSWORD,
      consumerKey: e.LOCAL_CONSUMER_KEY,
      channelAddressIdentifier: e.LOCAL_CHANNEL_ADDRESS_IDENTIFIER,
      authorizationContext: e.LOCAL_AUTHORIZATION_CONTEXT,
      routingOwner: e.LOCAL_ROUTING_OWNER,
      consentOwner: e.LOCAL_CONSENT_OWNER,
      endUserClientIdentifier: e.LOCAL_END_USER_CLIENT_IDENTIFIER,
      queues: e.LOCAL_QUEUES.map((q) => ({ queueId: q.id, developerName: q.name })),
      flows: e.LOCAL_FLOWS.map((f) => ({ flowId: f.id, apiName: f.name })),
      agentUsers: e.LOCAL_AGENT_USERS.map((a) => ({ userId: a.id, username: a.name })),
      channelRouting: {
        queueId: channelQueue.id,
        flowId: e.LOCAL_CHANNEL_ROUTING_FLOW_ID ?? null,
        attributeMaxLength: e.LOCAL_ROUTING_ATTRIBUTE_MAX_LENGTH,
      },
    },
    tokens: {
      acceptedAudiences: e.ACCEPTED_AUDIENCES ?? [publicBaseUrl, 'https://login.salesforce.com', 'https://test.salesforce.com'],
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      assertionMaxLifetimeSeconds: e.ASSERTION_MAX_LIFETIME_SECONDS,
      clockSkewSeconds: e.ASSERTION_CLOCK_SKEW_SECONDS,
    },
    shutdown: {
      /** After SIGTERM: unready but still serving, for the load balancer to notice before the listeners close. */
      delayMs: e.SHUTDOWN_DELAY_SECONDS * 1000,
      /** The bound on the whole stop: whatever still runs then is cut and the process exits. */
      timeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    },
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    /** Slow clients: how long the headers, a whole request, and an idle keep-alive connection may take. */
    httpTimeouts: {
      headersMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    jsonBodyLimitBytes: e.JSON_BODY_LIMIT_BYTES,
    attachments: {
      maxBytes: e.ATTACHMENT_MAX_BYTES,
      s3: {
        /** Unset: an S3-compatible server is started in-process on `embeddedPort`, files under DATA_DIR/s3. */
        endpoint: e.S3_ENDPOINT,
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        embeddedPort: e.S3_PORT,
        embeddedDir: path.join(dataDir, 's3'),
        /** The embedded server's generated key pair; any S3 tool must sign with it. */
        embeddedCredentialsFile: path.join(dataDir, 's3-credentials.json'),
      },
    },
    outbound: {
      pubSubPort: e.PUBSUB_PORT,
      topicName: e.SF_PUB_SUB_TOPIC_NAME,
      fields: {
        channelAddressId: e.SF_PUB_SUB_CUSTOM_EVENT_CHANNEL_ADDRESS_ID_FIELD,
        payload: e.SF_PUB_SUB_CUSTOM_EVENT_PAYLOAD_FIELD,
        recipient: e.SF_PUB_SUB_CUSTOM_EVENT_RECIPIENT_FIELD,
        eventType: e.SF_PUB_SUB_CUSTOM_EVENT_TYPE_FIELD,
      },
      localEventShape: e.LOCAL_OUTBOUND_EVENT_SHAPE,
      retentionHours: e.OUTBOUND_EVENT_RETENTION_HOURS,
      /** How long the bridge keeps a received event once none of its deliveries is pending, and a parked one. */
      receivedRetentionHours: e.RECEIVED_EVENT_RETENTION_HOURS,
      keepaliveSeconds: e.PUBSUB_KEEPALIVE_SECONDS,
      /** Events appended in this process wake subscriptions when they commit; this finds another process's. */
      pubSubPollMs: e.PUBSUB_POLL_MS,
      subscribeFrom: e.OUTBOUND_SUBSCRIBE_FROM,
      /** How often a replica without the subscription tries to take it (and the holder checks it still has it). */
      lockPollMs: e.OUTBOUND_LOCK_POLL_MS,
      webhooks: {
        retryScheduleSeconds: e.WEBHOOK_RETRY_SCHEDULE_SECONDS,
        timeoutMs: e.WEBHOOK_TIMEOUT_MS,
        concurrency: e.WEBHOOK_CONCURRENCY,
        pipelineDepth: e.WEBHOOK_PIPELINE_DEPTH,
      },
    },
    integrations: {
      retryScheduleSeconds: e.INTEGRATION_RETRY_SCHEDULE_SECONDS,
      timeoutMs: e.INTEGRATION_TIMEOUT_MS,
      concurrency: e.INTEGRATION_CONCURRENCY,
      /** PEM file of extra certificate authorities trusted for integration calls (besides the usual ones). */
      caFile: e.INTEGRATION_CA_FILE,
      /** Only for local testing: lets endpoint URLs use http:// when the host is a loopback address. */
      allowHttpLoopback: e.INTEGRATION_ALLOW_HTTP_LOOPBACK === 'true',
      /** The most of a service's answer read; a longer answer fails the call (logged as too large). */
      maxAnswerBytes: e.INTEGRATION_MAX_ANSWER_BYTES,
      /** How often the dispatcher looks for calls besides being woken (calls another replica committed). */
      pollMs: e.INTEGRATION_POLL_MS,
    },
  };
}
