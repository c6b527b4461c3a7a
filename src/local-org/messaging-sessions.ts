import { preparedQuery } from '../store/prepared-query.ts';
import type { Tx } from '../store/transactions.ts';
import { KeyPrefix, newSalesforceId } from '../contract/salesforce-ids.ts';

// Every inbound message looks for its conversation's open session: built once.
const openSessionOf = preparedQuery((db, conversationIdentifier: string) =>
  db.selectFrom('messaging_sessions').selectAll().where('open_key', '=', conversationIdentifier),
);

/**
 * Messaging sessions: the work item the routing state hangs off. At most one is open per conversation
 * (a unique constraint, so it holds across processes); its status is derived from the routing state.
 */
export class MessagingSessions {
  async findOpen(tx: Tx, conversationIdentifier: string) {
    const [session] = (await openSessionOf(tx, conversationIdentifier)).rows;
    return session;
  }

  /** The conversation's open session, opened now if it has none. */
  async openIfNone(tx: Tx, orgId: string, conversationIdentifier: string): Promise<{ sessionId: string; opened: boolean }> {
    const existing = await this.findOpen(tx, conversationIdentifier);
    if (existing) return { sessionId: existing.session_id, opened: false };
    const sessionId = newSalesforceId(KeyPrefix.MessagingSession);
    const now = Date.now();
    const inserted = await tx
      .insertInto('messaging_sessions')
      .values({
        session_id: sessionId,
        org_id: orgId,
        conversation_identifier: conversationIdentifier,
        status: 'New',
        open_key: conversationIdentifier,
        opened_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('open_key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { sessionId, opened: true };
    const winner = await this.findOpen(tx, conversationIdentifier);
    if (!winner) throw new Error(`no open session for ${conversationIdentifier} after a conflicting insert`);
    return { sessionId: winner.session_id, opened: false };
  }

  /**
   * Takes the session's row lock (a write to it), so concurrent changes to one session's routing run one
   * after the other on PostgreSQL as they do on SQLite, and each sees what the one before committed.
   */
  async lock(tx: Tx, sessionId: string): Promise<void> {
    await tx.updateTable('messaging_sessions').set({ updated_at: Date.now() }).where('session_id', '=', sessionId).execute();
  }

  /** New (nobody on it), Waiting (a routing is open), Active (an agent works on it); Ended stays Ended. */
  async refreshStatus(tx: Tx, sessionId: string): Promise<string> {
    const session = await tx
      .selectFrom('messaging_sessions')
      .select(['status', 'open_key'])
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if (session.open_key === null) return session.status;
    const [activeWork, openRouting] = await Promise.all([
      tx
        .selectFrom('agent_work')
        .select('work_id')
        .where('session_id', '=', sessionId)
        .where('active_key', 'is not', null)
        .executeTakeFirst(),
      tx.selectFrom('pending_service_routings').select('psr_id').where('open_key', '=', sessionId).executeTakeFirst(),
    ]);
    const status = activeWork ? 'Active' : openRouting ? 'Waiting' : 'New';
    if (status !== session.status) {
      await tx.updateTable('messaging_sessions').set({ status, updated_at: Date.now() }).where('session_id', '=', sessionId).execute();
    }
    return status;
  }

  /**
   * Ends the session when nobody works on it and no routing is open: the conversation's next message opens
   * a new one. Answers what the SessionStatusChanged entry needs, or null when the session stays open.
   */
  async endIfDone(tx: Tx, sessionId: string): Promise<{ previousStatus: string; openedAt: number; endedAt: number } | null> {
    const previous = await tx
      .selectFrom('messaging_sessions')
      .select(['status', 'opened_at'])
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    if ((await this.refreshStatus(tx, sessionId)) !== 'New') return null;
    const now = Date.now();
    await tx
      .updateTable('messaging_sessions')
      .set({ status: 'Ended', open_key: null, ended_at: now, updated_at: now })
      .where('session_id', '=', sessionId)
      .execute();
    return { previousStatus: previous.status, openedAt: previous.opened_at, endedAt: now };
  }
}
