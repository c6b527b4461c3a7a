import type { Db } from '../store/database.ts';
import { consentStatusOf } from './consent.ts';
import type { OutboundEventLog } from './outbound-event-log.ts';
import { toFifteenCharId } from '../contract/salesforce-ids.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const decimal = (text: string | null) => (text === null ? null : Number(text));

/** What the management API shows of the local org's routing state. */
export class RoutingViews {
  constructor(
    private readonly db: Db,
    private readonly outboundEvents: OutboundEventLog,
  ) {}

  /** Queues, flows and agent users of the org. */
  async orgRouting(orgId: string) {
    const [queues, flows, agents] = await Promise.all([
      this.db.selectFrom('queues').selectAll().where('org_id', '=', orgId).orderBy('queue_id').execute(),
      this.db.selectFrom('flows').selectAll().where('org_id', '=', orgId).orderBy('flow_id').execute(),
      this.db
        .selectFrom('users')
        .select(['user_id', 'username', 'display_name'])
        .where('org_id', '=', orgId)
        .where('is_agent', '=', 1)
        .orderBy('user_id')
        .execute(),
    ]);
    return {
      queues: queues.map((q) => ({ queueId: q.queue_id, queueId15: toFifteenCharId(q.queue_id), developerName: q.developer_name })),
      flows: flows.map((f) => ({ flowId: f.flow_id, flowId15: toFifteenCharId(f.flow_id), apiName: f.api_name })),
      agentUsers: agents.map((a) => ({
        userId: a.user_id,
        userId15: toFifteenCharId(a.user_id),
        username: a.username,
        name: a.display_name,
      })),
    };
  }

  /**
   * The conversation's end-user consent, its messaging sessions (oldest first) each with its routing and
   * agent work history, and the outbound events recorded for it, in replay order.
   */
  async conversationRouting(conversation: {
    conversationIdentifier: string;
    channelAddressIdentifier: string;
    endUserClientIdentifier: string;
  }) {
    const sessions = await this.db
      .selectFrom('messaging_sessions')
      .selectAll()
      .where('conversation_identifier', '=', conversation.conversationIdentifier)
      .orderBy('opened_at')
      .orderBy('session_id')
      .execute();
    const ids = sessions.map((s) => s.session_id);
    const [routings, works, results] = ids.length
      ? await Promise.all([
          this.db.selectFrom('pending_service_routings').selectAll().where('session_id', 'in', ids).orderBy('created_at').execute(),
          this.db
            .selectFrom('agent_work as w')
            .innerJoin('users as u', 'u.user_id', 'w.user_id')
            .selectAll('w')
            .select(['u.username'])
            .where('w.session_id', 'in', ids)
            .orderBy('w.created_at')
            .execute(),
          this.db.selectFrom('routing_results').selectAll().where('session_id', 'in', ids).orderBy('created_at').execute(),
        ])
      : [[], [], []];
    const events = await this.outboundEvents.listForConversation(conversation.conversationIdentifier);
    return {
      outboundEvents: events.map((e) => ({
        replayId: e.replayId,
        eventType: e.eventType,
        shape: e.shape,
        fields: e.fields,
        createdAt: iso(e.createdAt),
      })),
      consentStatus: await consentStatusOf(this.db, conversation.channelAddressIdentifier, conversation.endUserClientIdentifier),
      messagingSessions: sessions.map((s) => ({
        workItemId: toFifteenCharId(s.session_id),
        messagingSessionId: s.session_id,
        status: s.status,
        openedAt: iso(s.opened_at),
        endedAt: iso(s.ended_at),
        pendingServiceRoutings: routings
          .filter((r) => r.session_id === s.session_id)
          .map((r) => ({
            psrId: r.psr_id,
            status: r.status,
            routingType: r.routing_type,
            routingMethod: r.routing_method,
            queueId: r.queue_id,
            flowId: r.flow_id,
            routingAttributes: r.routing_attributes ? JSON.parse(r.routing_attributes) : null,
            routingCorrelationId: r.routing_correlation_id,
            cancelReason: r.cancel_reason,
            requestId: r.request_id,
            createdAt: iso(r.created_at),
            closedAt: iso(r.closed_at),
          })),
        routingResults: results
          .filter((r) => r.session_id === s.session_id)
          .map((r) => ({
            psrId: r.psr_id,
            routingType: r.routing_type,
            success: Boolean(r.success),
            externallyRouted: Boolean(r.externally_routed),
            errorMessage: r.error_message,
            requestId: r.request_id,
            createdAt: iso(r.created_at),
          })),
        agentWork: works
          .filter((w) => w.session_id === s.session_id)
          .map((w) => ({
            agentWorkId: w.work_id,
            userId: w.user_id,
            username: w.username,
            status: w.status,
            capacityPercentage: decimal(w.capacity_percentage),
            capacityWeight: decimal(w.capacity_weight),
            psrId: w.psr_id,
            routingContext: {
              conversationIdentifier: conversation.conversationIdentifier,
              routingType: w.routing_type,
              routingCorrelationId: w.routing_correlation_id,
            },
            requestId: w.request_id,
            createdAt: iso(w.created_at),
            closedAt: iso(w.closed_at),
          })),
      })),
    };
  }
}
