import { z } from 'zod';
import { MANAGEMENT_ERROR_CODES, type ManagementErrorCode } from '../../contract/management-errors.ts';
import type { ManagementOperation } from './operation.ts';

const errorBody = z.object({
  code: z
    .enum(Object.keys(MANAGEMENT_ERROR_CODES) as [ManagementErrorCode, ...ManagementErrorCode[]])
    .describe('The management API’s own error code; each has one HTTP status (src/contract/management-errors.ts)'),
  message: z.string(),
});

const schemaOf = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return rest;
};

/** `/api/conversations/:conversationIdentifier` → `/api/conversations/{conversationIdentifier}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

/** The OpenAPI 3.1 document of the management API, built from the operations the routes declare. */
export function buildOpenApiDocument(operations: ManagementOperation[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters = [
      ...[...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.query?.shape ?? {}).map(([name, schema]) => {
        const json = schemaOf(schema as z.ZodType);
        return {
          name,
          in: 'query',
          required: !(schema as z.ZodType).safeParse(undefined).success,
          ...(json.description ? { description: json.description } : {}),
          schema: json,
        };
      }),
    ];
    const responses: Record<string, unknown> = Object.fromEntries(
      Object.entries(op.responses).map(([status, description]) => {
        const code = Number(status);
        if (code >= 400)
          return [status, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }];
        if (code === 204) return [status, { description }];
        return [status, { description, content: { [op.produces ?? 'application/json']: {} } }];
      }),
    );
    if (!op.public) responses['401'] ??= { description: 'No or wrong admin key.', content: errorContent() };
    (paths[openApiPath(op.path)] ??= {})[op.method] = {
      operationId: operationId(op),
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body) } } } } : {}),
      ...(op.rawBody
        ? {
            requestBody: {
              required: true,
              content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'BYOC bridge management API',
      version: info.version,
      description:
        'The management API of the BYOC bridge (port 7080): the local org, conversations, the agent side, webhooks and deliveries, ' +
        'connected apps and channels. Every operation except the public ones needs `Authorization: Bearer <admin key>` ' +
        '(`npm run -s admin-key`).',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ adminKey: [] }],
    paths,
    components: {
      securitySchemes: { adminKey: { type: 'http', scheme: 'bearer', description: 'The admin key (ADMIN_KEY or DATA_DIR/admin-key).' } },
      schemas: { Error: schemaOf(errorBody) },
    },
  };

  function errorContent() {
    return { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  }
}

function operationId(op: ManagementOperation): string {
  const words = op.path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `By ${part.slice(1)}` : part))
    .join(' ')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [op.method, ...words].map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}
