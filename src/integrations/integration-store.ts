import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { toEighteenCharId } from '../contract/salesforce-ids.ts';
import type { Db } from '../store/database.ts';
import { inTransaction, type Tx } from '../store/transactions.ts';
import type { IntegrationTable } from '../store/tables.ts';
import type { IntegrationInput } from './integration-input.ts';

/** A refusal of the management input that needs the store to see (unknown queue, missing secret). */
export class IntegrationInputError extends Error {}

/**
 * Integrations and their authentications in the store. Secrets go in and never come out: every read
 * returns authentication ids only.
 */
export class IntegrationStore {
  constructor(private readonly db: Db) {}

  async create(input: IntegrationInput) {
    const id = `int_${randomUUID()}`;
    await inTransaction(this.db, async (tx) => {
      const queueIds = await this.checkQueues(tx, input.queueIds);
      const now = Date.now();
      await tx
        .insertInto('integrations')
        .values({ integration_id: id, ...columns(input, queueIds), created_at: now, updated_at: now })
        .execute();
      await this.writeAuthentications(tx, id, input);
    });
    const created = await this.get(id);
    if (!created) throw new Error(`integration ${id} vanished after its creation`);
    return created;
  }

  /** Replaces an integration; `authentications` omitted keeps them, listed without a secret keeps that secret. */
  async update(id: string, input: IntegrationInput) {
    const found = await inTransaction(this.db, async (tx) => {
      const existing = await tx.selectFrom('integrations').select('integration_id').where('integration_id', '=', id).executeTakeFirst();
      if (!existing) return false;
      const queueIds = await this.checkQueues(tx, input.queueIds);
      await tx
        .updateTable('integrations')
        .set({ ...columns(input, queueIds), updated_at: Date.now() })
        .where('integration_id', '=', id)
        .execute();
      await this.writeAuthentications(tx, id, input);
      return true;
    });
    return found ? this.get(id) : undefined;
  }

  /** A new integration with the same settings and a name marked as a copy; authentications are not copied. */
  async copy(id: string) {
    const source = await this.db.selectFrom('integrations').selectAll().where('integration_id', '=', id).executeTakeFirst();
    if (!source) return undefined;
    const copyId = `int_${randomUUID()}`;
    const now = Date.now();
    await this.db
      .insertInto('integrations')
      .values({ ...source, integration_id: copyId, name: `${source.name} (copy)`.slice(0, 100), created_at: now, updated_at: now })
      .execute();
    return this.get(copyId);
  }

  /** Deletes it with its secrets; its pending calls fail, their log stays. */
  async delete(id: string): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      const deleted = await tx.deleteFrom('integrations').where('integration_id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await tx.deleteFrom('integration_authentications').where('integration_id', '=', id).execute();
      await tx
        .updateTable('integration_calls')
        .set({ status: 'failed', last_error: 'the integration was deleted', lease_owner: null, lease_until: null, updated_at: Date.now() })
        .where('integration_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      return true;
    });
  }

  async list() {
    const rows = await this.db.selectFrom('integrations').selectAll().orderBy('created_at', 'asc').execute();
    const auths = await this.db
      .selectFrom('integration_authentications')
      .select(['integration_id', 'auth_id'])
      .orderBy('auth_id')
      .execute();
    return rows.map((r) =>
      view(
        r,
        auths.filter((a) => a.integration_id === r.integration_id).map((a) => a.auth_id),
      ),
    );
  }

  async get(id: string) {
    const row = await this.db.selectFrom('integrations').selectAll().where('integration_id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const auths = await this.db
      .selectFrom('integration_authentications')
      .select('auth_id')
      .where('integration_id', '=', id)
      .orderBy('auth_id')
      .execute();
    return view(
      row,
      auths.map((a) => a.auth_id),
    );
  }

  private async checkQueues(tx: Tx, queueIds: string[]): Promise<string[]> {
    const ids = [...new Set(queueIds.map((q) => toEighteenCharId(q)))];
    if (ids.length === 0) return [];
    const known = await tx.selectFrom('queues').select('queue_id').where('queue_id', 'in', ids).execute();
    const missing = ids.filter((q) => !known.some((k) => k.queue_id === q));
    if (missing.length > 0) throw new IntegrationInputError(`queueIds: ${missing.join(', ')} is not a queue of the org`);
    return ids;
  }

  private async writeAuthentications(tx: Tx, id: string, input: IntegrationInput) {
    const given = input.authentications;
    const stored = await tx
      .selectFrom('integration_authentications')
      .select(['auth_id', 'secret'])
      .where('integration_id', '=', id)
      .execute();
    if (given) {
      for (const a of given) {
        if (!a.secret && !stored.some((s) => s.auth_id === a.id)) {
          throw new IntegrationInputError(`authentications: "${a.id}" needs a secret (none is stored for it)`);
        }
      }
      await tx.deleteFrom('integration_authentications').where('integration_id', '=', id).execute();
      const rows = given.map((a) => ({
        integration_id: id,
        auth_id: a.id,
        secret: a.secret ?? stored.find((s) => s.auth_id === a.id)?.secret ?? '',
      }));
      if (rows.length > 0) await tx.insertInto('integration_authentications').values(rows).execute();
    }
    // Every authentication the configuration names must exist, or each call would fail.
    const ids = given ? given.map((a) => a.id) : stored.map((s) => s.auth_id);
    const ref = input.configuration.request.authentication;
    if (ref && !ids.some((a) => (ref.id ? a === ref.id : a.startsWith(`${ref.type}:`)))) {
      throw new IntegrationInputError(
        `configuration.request.authentication: no ${ref.id ?? `${ref.type}:<username>`} authentication is defined`,
      );
    }
    const named = [...JSON.stringify(input).matchAll(/\{authentications\.([^}]+)\}/g)].map((m) => m[1] ?? '');
    const unknown = named.find((n) => !ids.includes(n));
    if (unknown) throw new IntegrationInputError(`{authentications.${unknown}} names no authentication of this integration`);
  }
}

function columns(input: IntegrationInput, queueIds: string[]) {
  return {
    name: input.name,
    description: input.description ?? null,
    url: input.url,
    direction: input.direction,
    events: JSON.stringify(input.events),
    direct_conversations: input.directConversations ? 1 : 0,
    queue_ids: JSON.stringify(queueIds),
    configuration: JSON.stringify(input.configuration),
  };
}

function view(row: Selectable<IntegrationTable>, authIds: string[]) {
  const events = JSON.parse(row.events) as string[];
  return {
    id: row.integration_id,
    name: row.name,
    description: row.description,
    url: row.url,
    direction: row.direction,
    events,
    enabled: events.length > 0,
    directConversations: row.direct_conversations === 1,
    queueIds: JSON.parse(row.queue_ids) as string[],
    authentications: authIds.map((id) => ({ id })),
    configuration: JSON.parse(row.configuration) as unknown,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
