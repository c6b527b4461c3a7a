import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrationProvider } from '../src/store/migrations/index.ts';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { bareDatabase } from './helpers/bare-database.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';

/*
 * 10073: an entry id is stored once per conversation, and the database holds to it (a unique index), so
 * requests carrying one id at the same moment store it once, and the others are refused with the
 * catalog's code, not a 5xx.
 */

const CONCURRENT = 8;

for (const store of storeKinds()) {
  describe(`one entry per id and conversation, under concurrent requests (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const entriesWithId = async (conversation: string, id: string) =>
      ((await bridge.management(`/api/conversations/${conversation}`)).entries as any[]).filter((e) => e.entryId === id);

    test('the same message id sent to /interactions at once: one stored, the others refused with 10073', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const first = await postInteraction(bridge, textMessage('first', { from }), { token });
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const id = randomUUID();
      // Distinct RequestIds: each is a request of its own, not a retry the idempotency step would answer.
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) => postInteraction(bridge, textMessage(`twin ${i}`, { from, id }), { token })),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [202, ...Array(CONCURRENT - 1).fill(400)], JSON.stringify(answers.map((a) => a.body)));
      for (const refused of answers.filter((a) => a.status === 400)) assert.equal(refused.body.code, 10073);
      assert.equal((await entriesWithId(first.body.conversationIdentifier, id)).length, 1);
    });

    test('the same entry id sent to /conversationEntry at once: one stored, the others refused with 10073', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const first = await postInteraction(bridge, textMessage('hello', { from }), { token });
      const conversationIdentifier = first.body.conversationIdentifier;
      const id = randomUUID();
      const body = (i: number, entryId = id) => ({
        conversationIdentifier,
        sender: { appType: 'custom', subject: from, role: 'EndUser' },
        conversationEntries: [
          {
            clientTimestamp: Date.now(),
            entryPayload: {
              id: entryId,
              entryType: 'Message',
              abstractMessage: {
                id: entryId,
                messageType: 'StaticContentMessage',
                staticContent: { formatType: 'Text', text: `twin ${i}` },
              },
            },
          },
        ],
      });
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) => callJson(bridge, 'POST', '/conversationEntry', body(i), { token })),
      );
      assert.deepEqual(
        answers.map((a) => a.status).sort(),
        [202, ...Array(CONCURRENT - 1).fill(400)],
        JSON.stringify(answers.map((a) => a.body)),
      );
      for (const refused of answers.filter((a) => a.status === 400)) assert.equal(refused.body.code, 10073);
      assert.equal((await entriesWithId(conversationIdentifier, id)).length, 1);
      // The refusals left the conversation as it was: a new id is stored.
      const next = await callJson(bridge, 'POST', '/conversationEntry', body(99, randomUUID()), { token });
      assert.equal(next.status, 202, JSON.stringify(next.body));
    });
  });

  describe(`the migration to unique entry ids keeps entries stored twice before it (${store})`, () => {
    test('a database with twin entries migrates: the later twin is kept under a suffixed id, and the index then refuses twins', async () => {
      const bare = await bareDatabase(store);
      const { db, schema } = bare;
      try {
        const migrator = new Migrator({ db, provider: migrationProvider(store), ...(schema ? { migrationTableSchema: schema } : {}) });
        const upTo7 = await migrator.migrateTo('0007_interaction_operations');
        assert.equal(upTo7.error, undefined);
        await sql`insert into conversations (conversation_identifier, org_id, channel_address_identifier, end_user_client_identifier, created_at)
                  values ('c1', ${LOCAL_ORG.orgId}, 'ch', 'eu', 1)`.execute(db);
        for (const text of ['one', 'two']) {
          await sql`insert into conversation_entries (conversation_identifier, entry_id, entry_type, sender_role, sender_subject, payload, created_at)
                    values ('c1', 'twin', 'Message', 'EndUser', 'eu', ${text}, 1)`.execute(db);
        }
        const latest = await migrator.migrateToLatest();
        assert.equal(latest.error, undefined, String(latest.error));
        const rows = await sql<{
          entry_id: string;
          payload: string;
        }>`select entry_id, payload from conversation_entries order by "sequence"`.execute(db);
        assert.equal(rows.rows[0]!.entry_id, 'twin');
        assert.equal(rows.rows[0]!.payload, 'one');
        assert.match(rows.rows[1]!.entry_id, /^twin#duplicate-\d+$/);
        assert.equal(rows.rows[1]!.payload, 'two');
        await assert.rejects(
          sql`insert into conversation_entries (conversation_identifier, entry_id, entry_type, sender_role, sender_subject, payload, created_at)
              values ('c1', 'twin', 'Message', 'EndUser', 'eu', 'three', 1)`.execute(db),
          /unique|UNIQUE/,
        );
      } finally {
        await bare.dispose();
      }
    });
  });
}
