import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../contract/api-error.ts';
import { AGENT_WORK_STATUSES } from '../contract/agent-work-request.ts';
import { managementError } from '../contract/management-errors.ts';
import { isSalesforceId, toEighteenCharId } from '../contract/salesforce-ids.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { LocalOrgAgentWork } from '../local-org/agent-work.ts';
import type { LocalOrgRouting } from '../local-org/routing.ts';
import type { Db } from '../store/database.ts';
import { inTransaction, type Tx } from '../store/transactions.ts';
import type { ManagementOperation } from './openapi/operation.ts';
import { parseInput } from './parse-input.ts';

const salesforceId = z.string().regex(/^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/, 'must be a 15 or 18 character id');
const assignBody = z
  .object({
    userId: salesforceId.describe('The agent user (005…) the session is assigned to'),
    capacityPercentage: z.number().min(0).max(100).optional(),
    capacityWeight: z.number().min(0).optional(),
  })
  .refine(
    (b) => b.capacityPercentage === undefined || b.capacityWeight === undefined,
    'give capacityPercentage or capacityWeight, not both',
  );
const workBody = z.object({ status: z.enum(AGENT_WORK_STATUSES) });
const routeBody = z
  .object({
    routingType: z.enum(['Initial', 'Transfer']).default('Transfer'),
    queueId: salesforceId.describe('The queue (00G…) to route to; with flowId, the flow’s fallback queue'),
    flowId: salesforceId.optional().describe('Route through this flow (300…)'),
    routingAttributes: z.record(z.string().min(1).max(80), z.string().max(1000)).optional(),
  })
  .strict();

const TAG = 'Agent (local org)';
const stateConflict = 'The conversation or agent work is not in a state that allows it (`conflict`).';

export const agentRoutingOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/route',
    tag: TAG,
    summary:
      'Route the conversation to a queue (or a flow with its fallback queue); `routingType` Transfer (the default) raises Transferred, as `POST /api/v1/route` does',
    body: routeBody,
    responses: {
      202: 'The route answer: `{success, psrId, workItemId, routingCorrelationId, contextParamMap}`.',
      400: 'The body is not valid, or names no queue or flow of the org (`invalid_request`).',
      404: 'No such conversation (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/agent-work',
    tag: TAG,
    summary: 'Assign the conversation’s open messaging session to an agent user (Allocated), as `POST /api/v1/agentWork` does',
    body: assignBody,
    responses: {
      202: 'The agentWork answer: `{success, agentWorkId, agentWorkDetails}`.',
      400: 'The body is not valid, the user is not an agent, or there is no open routing and no capacity was given (`invalid_request`).',
      404: 'No such conversation (`not_found`).',
      409: 'The conversation has no open messaging session, or the agent already has active work on it (`conflict`).',
    },
  },
  {
    method: 'patch',
    path: '/api/agent-work/:workId',
    tag: TAG,
    summary: 'Accept, decline, cancel or close an agent work as its agent, as `PATCH /api/v1/agentWork` does',
    body: workBody,
    responses: {
      202: '`{success: true}`',
      400: 'The body is not valid (`invalid_request`).',
      404: 'No such agent work (`not_found`).',
      409: stateConflict,
    },
  },
];

/** Interaction API refusals of the routing operations, as the management API's codes. */
const CONFLICT_CODES = new Set([15109, 15111, 10085]);
const NOT_FOUND_CODES = new Set([10025, 10082]);

export interface AgentRoutingDeps {
  db: Db;
  orgId: string;
  /** The org's own user, who the management API acts as. */
  userId: string;
  routing: LocalOrgRouting;
  agentWork: LocalOrgAgentWork;
}

/**
 * What an agent or supervisor does in the local org's Omni-Channel, from the management API: route or
 * transfer a conversation, assign it to an agent, accept and close the work. Each runs the local org's own
 * route/agentWork operation, so routing state, lifecycle events (and integrations) and outbound events are
 * exactly those of the Interaction API call, acting for the conversation's channel.
 */
export function agentRoutingRoutes(deps: AgentRoutingDeps): Router {
  const router = express.Router();
  const callFor = (authorizationContext: string): CrmCall => ({
    orgId: deps.orgId,
    userId: deps.userId,
    consumerKey: 'management-api',
    authorizationContext,
    requestId: randomUUID(),
  });
  const run = async (work: (tx: Tx) => Promise<CrmResponse>): Promise<CrmResponse> => {
    try {
      return await inTransaction(deps.db, work);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      if (CONFLICT_CODES.has(err.code)) throw managementError('conflict', err.message);
      if (NOT_FOUND_CODES.has(err.code)) throw managementError('not_found', err.message);
      throw managementError('invalid_request', err.message);
    }
  };
  const conversationOf = async (tx: Tx, conversationIdentifier: string) => {
    const found = await tx
      .selectFrom('conversations as c')
      .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
      .select(['ch.authorization_context'])
      .where('c.conversation_identifier', '=', conversationIdentifier)
      .where('c.org_id', '=', deps.orgId)
      .executeTakeFirst();
    if (!found) throw managementError('not_found', `No conversation "${conversationIdentifier}".`);
    return found;
  };

  router.post('/conversations/:conversationIdentifier/route', async (req, res) => {
    const { routingType, queueId, flowId, routingAttributes } = parseInput(routeBody, req.body);
    const conversationIdentifier = req.params.conversationIdentifier;
    const answer = await run(async (tx) => {
      const { authorization_context } = await conversationOf(tx, conversationIdentifier);
      const target = flowId ? { method: 'Flow' as const, flowId, queueId } : { method: 'Queue' as const, queueId };
      return deps.routing.route(tx, callFor(authorization_context), {
        conversationIdentifier,
        routingType,
        target,
        ...(routingAttributes ? { routingAttributes } : {}),
      });
    });
    res.status(answer.status).json(answer.body);
  });

  router.post('/conversations/:conversationIdentifier/agent-work', async (req, res) => {
    const body = parseInput(assignBody, req.body);
    const conversationIdentifier = req.params.conversationIdentifier;
    const answer = await run(async (tx) => {
      const { authorization_context } = await conversationOf(tx, conversationIdentifier);
      const session = await tx
        .selectFrom('messaging_sessions')
        .select('session_id')
        .where('conversation_identifier', '=', conversationIdentifier)
        .where('open_key', 'is not', null)
        .executeTakeFirst();
      if (!session) throw managementError('conflict', `Conversation "${conversationIdentifier}" has no open messaging session.`);
      return deps.agentWork.create(tx, callFor(authorization_context), { ...body, workItemId: session.session_id });
    });
    res.status(answer.status).json(answer.body);
  });

  router.patch('/agent-work/:workId', async (req, res) => {
    const { status } = parseInput(workBody, req.body);
    const workId = req.params.workId;
    const answer = await run(async (tx) => {
      const found = isSalesforceId(workId)
        ? await tx
            .selectFrom('agent_work as w')
            .innerJoin('messaging_sessions as s', 's.session_id', 'w.session_id')
            .innerJoin('conversations as c', 'c.conversation_identifier', 's.conversation_identifier')
            .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
            .select(['ch.authorization_context'])
            .where('w.work_id', '=', toEighteenCharId(workId))
            .where('c.org_id', '=', deps.orgId)
            .executeTakeFirst()
        : undefined;
      if (!found) throw managementError('not_found', `No agent work "${workId}".`);
      return deps.agentWork.update(tx, callFor(found.authorization_context), {
        workId,
        status,
        contextType: 'Agent',
        authorizationContextType: 'ConversationChannelDefinition',
      });
    });
    res.status(answer.status).json(answer.body);
  });
  return router;
}
