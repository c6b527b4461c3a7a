import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrationProvider } from '../src/store/migrations/index.ts';
import { bareDatabase } from './helpers/bare-database.ts';
import { storeKinds } from './helpers/bridge-process.ts';

/*
 * Migration 0011 builds webhook_deliveries again with indexes an outcome does not rewrite: the deliveries
 * stored before it must come through unchanged, and one event still has at most one delivery per endpoint.
 */

for (const store of storeKinds()) {
  describe(`the migration of the delivery indexes keeps the deliveries stored before it (${store})`, () => {
    test('every column of every delivery is kept; a second delivery of an event to one endpoint is refused', async () => {
      const bare = await bareDatabase(store);
      const { db, schema } = bare;
      try {
        const migrator = new Migrator({ db, provider: migrationProvider(store), ...(schema ? { migrationTableSchema: schema } : {}) });
        const upTo10 = await migrator.migrateTo('0010_unique_entry_ids');
        assert.equal(upTo10.error, undefined, String(upTo10.error));
        await sql`insert into webhook_endpoints (endpoint_id, url, secret, created_at) values ('ep_1', 'http://x/', 's', 1)`.execute(db);
        for (const [sequence, eventId] of [
          [1, 'e1'],
          [2, 'e2'],
        ] as const) {
          await sql`insert into normalized_events (sequence, event_id, topic_name, replay_id, event_type, channel_address_identifier, ordering_key, body, received_at)
                    values (${sequence}, ${eventId}, 't', ${sequence}, 'Interaction', 'ch', 'k', '{}', 1)`.execute(db);
        }
        const before = [
          row('dlv_1', 1, 'e1', 'succeeded', { last_attempt_at: 5, last_status_code: 200, delivered_at: 5 }),
          row('dlv_2', 2, 'e2', 'dead', { last_attempt_at: 6, last_status_code: 500, last_error: 'HTTP 500' }),
          row('dlv_3', 2, 'e2', 'pending', { endpoint_id: 'ep_2', lease_owner: 'o', lease_until: 9 }),
        ];
        await db.insertInto('webhook_deliveries').values(before).execute();

        const latest = await migrator.migrateToLatest();
        assert.equal(latest.error, undefined, String(latest.error));

        const after = await db.selectFrom('webhook_deliveries').selectAll().orderBy('delivery_id').execute();
        // A bare pg pool answers bigint columns as text.
        const numbers = (r: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]));
        assert.deepEqual(after.map(numbers), before);
        await assert.rejects(
          db
            .insertInto('webhook_deliveries')
            .values(row('dlv_4', 1, 'e1', 'pending', {}))
            .execute(),
          /unique|UNIQUE/,
        );
        // Another endpoint may have its own delivery of the event.
        await db
          .insertInto('webhook_deliveries')
          .values(row('dlv_5', 1, 'e1', 'pending', { endpoint_id: 'ep_2' }))
          .execute();
      } finally {
        await bare.dispose();
      }
    });
  });
}

function row(deliveryId: string, sequence: number, eventId: string, status: string, rest: Record<string, unknown>) {
  return {
    delivery_id: deliveryId,
    event_sequence: sequence,
    event_id: eventId,
    endpoint_id: 'ep_1',
    ordering_key: 'k',
    status,
    attempts: 1,
    next_attempt_at: 3,
    last_attempt_at: null,
    last_status_code: null,
    last_error: null,
    delivered_at: null,
    lease_owner: null,
    lease_until: null,
    created_at: 2,
    ...rest,
  };
}
