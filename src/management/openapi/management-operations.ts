import { agentRoutingOperations } from '../agent-routing-routes.ts';
import { agentOperations } from '../agent-routes.ts';
import { attachmentOperations } from '../attachment-routes.ts';
import { channelOperations } from '../channel-routes.ts';
import { connectedAppOperations } from '../connected-app-routes.ts';
import { conversationOperations } from '../conversation-routes.ts';
import { eventStreamOperations } from '../event-stream-routes.ts';
import { integrationOperations } from '../integration-routes.ts';
import { orgOperations } from '../org-routes.ts';
import { outboundStatusOperations } from '../outbound-status-routes.ts';
import { webhookOperations } from '../webhook-routes.ts';
import type { ManagementOperation } from './operation.ts';

/** The operations `management-app.ts` itself serves, open without the admin key. */
export const publicOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/health',
    tag: 'Service',
    summary: 'Whether the server and its store answer',
    public: true,
    responses: { 200: '`{"status": "ok"}`' },
  },
  {
    method: 'get',
    path: '/api/ready',
    tag: 'Service',
    summary: 'Whether this process takes new traffic: not while it starts or drains (docs/deployment.md)',
    public: true,
    responses: { 200: '`{"status": "ready"}`', 503: '`{"status": "starting"}` or `{"status": "draining"}`' },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    tag: 'Service',
    summary: 'This document',
    public: true,
    responses: { 200: 'The OpenAPI 3.1 document of the management API.' },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Service',
    summary: 'Prometheus metrics (docs/metrics.md)',
    public: true,
    produces: 'text/plain; version=0.0.4',
    responses: { 200: 'The Prometheus text format.' },
  },
];

/** Every management API operation, in the order the document lists them. */
export const managementOperations: ManagementOperation[] = [
  ...publicOperations,
  ...orgOperations,
  ...channelOperations,
  ...connectedAppOperations,
  ...conversationOperations,
  ...attachmentOperations,
  ...[...agentOperations, ...agentRoutingOperations].map((op) => ({
    ...op,
    description: 'Local org only: in bridge mode the real org’s agents answer, and this is 404.',
  })),
  ...webhookOperations,
  ...eventStreamOperations,
  ...outboundStatusOperations,
  ...integrationOperations,
];
