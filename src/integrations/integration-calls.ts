import type { Db } from '../store/database.ts';
import type { Wakeup } from '../util/wakeup.ts';

/** The call log: one record per (lifecycle event, integration) with its attempts, and the manual retry. */
export class IntegrationCalls {
  constructor(
    private readonly db: Db,
    /** Told when a retry makes a call due (the dispatcher sleeps until then). */
    private readonly callsDue?: Wakeup,
  ) {}

  async list(q: {
    integrationId?: string | undefined;
    conversationIdentifier?: string | undefined;
    status?: string | undefined;
    limit: number;
  }) {
    let query = this.callQuery();
    if (q.integrationId) query = query.where('c.integration_id', '=', q.integrationId);
    if (q.conversationIdentifier) query = query.where('c.conversation_identifier', '=', q.conversationIdentifier);
    if (q.status) query = query.where('c.status', '=', q.status);
    const rows = await query.orderBy('c.event_sequence', 'desc').limit(q.limit).execute();
    return rows.map(callView);
  }

  /** One call with every attempt: the request as sent (secrets masked), status, timing and answer excerpt. */
  async get(callId: string) {
    const row = await this.callQuery().where('c.call_id', '=', callId).executeTakeFirst();
    if (!row) return undefined;
    const attempts = await this.db
      .selectFrom('integration_call_attempts')
      .selectAll()
      .where('call_id', '=', callId)
      .orderBy('sequence', 'asc')
      .execute();
    return {
      ...callView(row),
      attemptLog: attempts.map((a) => ({
        startedAt: new Date(a.started_at).toISOString(),
        request: JSON.parse(a.request) as unknown,
        statusCode: a.status_code,
        error: a.error,
        durationMs: a.duration_ms,
        responseExcerpt: a.response_excerpt,
      })),
    };
  }

  /** A failed call goes back to pending with a fresh retry schedule; anything else is left as it is. */
  async retry(callId: string): Promise<boolean> {
    const now = Date.now();
    const result = await this.db
      .updateTable('integration_calls')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, updated_at: now })
      .where('call_id', '=', callId)
      .where('status', '=', 'failed')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('integrations as i')
            .select('i.integration_id')
            .whereRef('i.integration_id', '=', 'integration_calls.integration_id'),
        ),
      )
      .executeTakeFirst();
    const retried = Number(result.numUpdatedRows) === 1;
    if (retried) this.callsDue?.notify();
    return retried;
  }

  /** The conversation's lifecycle events, oldest first. */
  async lifecycleEvents(conversationIdentifier: string) {
    const rows = await this.db
      .selectFrom('lifecycle_events')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .orderBy('sequence', 'asc')
      .execute();
    return rows.map((r) => ({
      sequence: r.sequence,
      event: r.event,
      direction: r.direction,
      conversationIdentifier: r.conversation_identifier,
      channelAddressIdentifier: r.channel_address_identifier,
      endUserClientIdentifier: r.end_user_client_identifier,
      queueId: r.queue_id,
      routingAttributes: JSON.parse(r.routing_attributes) as unknown,
      details: JSON.parse(r.details) as unknown,
      occurredAt: new Date(r.occurred_at).toISOString(),
    }));
  }

  private callQuery() {
    return this.db
      .selectFrom('integration_calls as c')
      .innerJoin('lifecycle_events as e', 'e.sequence', 'c.event_sequence')
      .select([
        'c.call_id',
        'c.integration_id',
        'c.conversation_identifier',
        'c.status',
        'c.attempts',
        'c.next_attempt_at',
        'c.last_status_code',
        'c.last_error',
        'c.created_at',
        'c.updated_at',
        'e.event',
        'e.sequence',
      ]);
  }
}

function callView(r: {
  call_id: string;
  integration_id: string;
  conversation_identifier: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  event: string;
  sequence: number;
}) {
  return {
    id: r.call_id,
    integrationId: r.integration_id,
    event: r.event,
    eventSequence: r.sequence,
    conversationIdentifier: r.conversation_identifier,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? new Date(r.next_attempt_at).toISOString() : null,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
