import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kysely } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { TransactionalIdempotency } from '../src/http/idempotency.ts';
import { appendToOpenSessionAnswered, MessagesAtOnce, type MessageAtOnce } from '../src/local-org/message-at-once.ts';
import { OwnSchemaPostgresDialect } from '../src/store/own-schema-introspection.ts';
import type { Tables } from '../src/store/tables.ts';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { openTestStore } from './helpers/test-store.ts';

// On PostgreSQL a text message into a conversation whose session is open is stored with its idempotency
// record and answer in one statement (src/local-org/message-at-once.ts); everything else, and anything
// that statement does not store, takes the usual transaction.

const log = pino({ level: 'silent' });

/** The statement for one message alone. */
async function appendOne(db: Kysely<Tables>, ...[key, entry, record, status, answer]: Parameters<typeof oneMessage>) {
  const [stored] = await appendToOpenSessionAnswered(db, [oneMessage(key, entry, record, status, answer)]);
  return stored;
}
const oneMessage = (
  key: MessageAtOnce['key'],
  entry: MessageAtOnce['entry'],
  record: MessageAtOnce['record'],
  status: number,
  answer: MessageAtOnce['answer'],
): MessageAtOnce => ({ key, entry, record, status, answer });
const postgres = storeKinds().includes('postgres');

describe('one statement for a message into an open session (postgres)', { skip: !postgres && 'PostgreSQL not available' }, () => {
  let bridge: BridgeProcess;
  let token: string;
  let db: Kysely<Tables>;
  before(async () => {
    bridge = await startBridge({ store: 'postgres' });
    token = await accessToken(bridge);
    db = new Kysely<Tables>({
      dialect: new OwnSchemaPostgresDialect({ pool: new pg.Pool({ connectionString: bridge.env.DATABASE_URL, max: 3 }) }),
    });
  });
  after(async () => {
    await db.destroy();
    await bridge.dispose();
  });

  const send = (body: unknown, requestId = randomUUID()) => postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
  const entriesWithId = (entryId: string) =>
    db.selectFrom('conversation_entries').select('conversation_identifier').where('entry_id', '=', entryId).execute();
  const recordsOf = (requestId: string) =>
    db.selectFrom('idempotency_keys').select(['status_code', 'response_body']).where('request_id', '=', requestId).execute();

  /** A conversation with an open session: the first message of a new end user opens both. */
  async function openConversation(endUser: string) {
    const first = await send(textMessage('hello', { from: endUser }));
    assert.equal(first.status, 202, JSON.stringify(first.body));
    return first.body.conversationIdentifier as string;
  }

  const keyOf = (endUser: string) => ({
    orgId: LOCAL_ORG.orgId,
    channelAddressIdentifier: LOCAL_ORG.channel,
    endUserClientIdentifier: endUser,
    authorizationContext: LOCAL_ORG.authorizationContext,
  });
  const entry = (entryId: string, endUser: string) => ({
    entryId,
    entryType: 'Message',
    senderRole: 'EndUser',
    senderSubject: endUser,
    clientTimestamp: Date.now(),
    payload: { id: entryId, messageType: 'StaticContentMessage' },
    requestId: randomUUID(),
  });
  const record = (idempotencyKey = randomUUID()) => ({
    idempotencyKey,
    requestId: randomUUID(),
    operation: 'POST /interactions',
    createdAt: Date.now(),
    expiresAt: Date.now() + 60_000,
  });
  const answer = (conversationIdentifier: string) => ({ conversationIdentifier, note: 'quote " and \\ kept' });

  test('over HTTP: the answer, the stored entry and its replay are those of the usual way', async () => {
    const conversation = await openConversation('+15550100001');
    const message = textMessage('second', { from: '+15550100001' });
    const requestId = randomUUID();
    const accepted = await send(message, requestId);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const entryId = message.interactions[0]!.payload.id;
    assert.deepEqual(accepted.body, { conversationIdentifier: conversation, id: entryId, workItemIds: [], success: true });
    assert.deepEqual(await entriesWithId(entryId), [{ conversation_identifier: conversation }]);
    const [stored] = await recordsOf(requestId);
    assert.equal(stored?.status_code, 202);
    assert.deepEqual(JSON.parse(stored.response_body!), accepted.body);

    const again = await send(message, requestId);
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, accepted.body);
    assert.equal((await entriesWithId(entryId)).length, 1);
  });

  test('over HTTP, concurrent messages (sharing statements) are each answered and stored once, and replayed', async () => {
    const endUsers = ['+15550100012', '+15550100013', '+15550100014'];
    const conversations = await Promise.all(endUsers.map(openConversation));
    const requests = Array.from({ length: 24 }, (_, i) => ({
      requestId: randomUUID(),
      conversation: conversations[i % 3]!,
      message: textMessage(`message ${i}`, { from: endUsers[i % 3]! }),
    }));
    const answers = await Promise.all(requests.map((r) => send(r.message, r.requestId)));
    for (const [i, accepted] of answers.entries()) {
      const { conversation, message } = requests[i]!;
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.deepEqual(accepted.body, {
        conversationIdentifier: conversation,
        id: message.interactions[0]!.payload.id,
        workItemIds: [],
        success: true,
      });
    }
    const replays = await Promise.all(requests.map((r) => send(r.message, r.requestId)));
    for (const [i, again] of replays.entries()) {
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, answers[i]!.body);
    }
    for (const { message } of requests) assert.equal((await entriesWithId(message.interactions[0]!.payload.id)).length, 1);
  });

  test('stores the entry and the record with its answer, completed with the conversation found', async () => {
    const conversation = await openConversation('+15550100002');
    const entryId = randomUUID();
    const r = record();
    const done = await appendOne(db, keyOf('+15550100002'), entry(entryId, '+15550100002'), r, 202, answer);
    assert.deepEqual(done, { conversationIdentifier: conversation, otherBodyWithRequestId: false });
    assert.deepEqual(await entriesWithId(entryId), [{ conversation_identifier: conversation }]);
    const [stored] = await recordsOf(r.requestId);
    assert.equal(stored?.status_code, 202);
    assert.deepEqual(JSON.parse(stored.response_body!), answer(conversation));
  });

  test('stores nothing when any condition fails', async () => {
    await openConversation('+15550100003');
    const key = keyOf('+15550100003');
    // The record's key is taken already (a replay): no entry.
    const taken = record();
    assert.ok(await appendOne(db, key, entry(randomUUID(), '+15550100003'), taken, 202, answer));
    const lateEntry = randomUUID();
    assert.equal(await appendOne(db, key, entry(lateEntry, '+15550100003'), taken, 202, answer), undefined);
    assert.equal((await entriesWithId(lateEntry)).length, 0);
    // The entry id is in the conversation already: no record.
    const twin = randomUUID();
    assert.ok(await appendOne(db, key, entry(twin, '+15550100003'), record(), 202, answer));
    const refused = record();
    assert.equal(await appendOne(db, key, entry(twin, '+15550100003'), refused, 202, answer), undefined);
    assert.deepEqual(await recordsOf(refused.requestId), []);
    // No conversation yet, another AuthorizationContext, an unknown channel: nothing.
    const cases = [
      keyOf('+15550100004'),
      { ...key, authorizationContext: 'SomeOtherContext' },
      { ...key, channelAddressIdentifier: 'no-such-channel' },
    ];
    for (const other of cases) {
      const r = record();
      const id = randomUUID();
      assert.equal(await appendOne(db, other, entry(id, '+15550100003'), r, 202, answer), undefined, JSON.stringify(other));
      assert.equal((await entriesWithId(id)).length, 0);
      assert.deepEqual(await recordsOf(r.requestId), []);
    }
  });

  test('no open session: nothing, so that the usual way opens one and its work item', async () => {
    const conversation = await openConversation('+15550100005');
    await db.updateTable('messaging_sessions').set({ open_key: null }).where('open_key', '=', conversation).execute();
    const id = randomUUID();
    assert.equal(await appendOne(db, keyOf('+15550100005'), entry(id, '+15550100005'), record(), 202, answer), undefined);
    assert.equal((await entriesWithId(id)).length, 0);
  });

  test('a duplicate committing its record meanwhile fails the statement whole: no entry without its record', async () => {
    await openConversation('+15550100006');
    const r = record();
    const holder = new pg.Client({ connectionString: bridge.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(
        'insert into idempotency_keys (idempotency_key, request_id, operation, status_code, response_body, created_at, expires_at) values ($1, $2, $3, null, null, $4, $5)',
        [r.idempotencyKey, r.requestId, r.operation, r.createdAt, r.expiresAt],
      );
      const id = randomUUID();
      const racing = appendOne(db, keyOf('+15550100006'), entry(id, '+15550100006'), r, 202, answer);
      const settled = racing.then(
        () => 'resolved',
        () => 'rejected',
      );
      // It waits for the holder's transaction, which has the key.
      assert.equal(await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 300, 'waiting'))]), 'waiting');
      await holder.query('commit');
      await assert.rejects(racing, (err: { code?: string }) => err.code === '23505');
      assert.equal((await entriesWithId(id)).length, 0);
    } finally {
      await holder.end();
    }
  });

  test('several messages in one statement: each is stored or not by its own conditions, in the given order', async () => {
    const first = await openConversation('+15550100007');
    const second = await openConversation('+15550100008');
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const records = ids.map(() => record());
    const messages = [
      oneMessage(keyOf('+15550100007'), entry(ids[0]!, '+15550100007'), records[0]!, 202, answer),
      oneMessage(keyOf('+15550100009'), entry(ids[1]!, '+15550100009'), records[1]!, 202, answer),
      oneMessage(
        { ...keyOf('+15550100007'), authorizationContext: 'SomeOtherContext' },
        entry(ids[2]!, '+15550100007'),
        records[2]!,
        202,
        answer,
      ),
      oneMessage(keyOf('+15550100008'), entry(ids[3]!, '+15550100008'), records[3]!, 202, answer),
      oneMessage(keyOf('+15550100007'), entry(ids[4]!, '+15550100007'), records[4]!, 202, answer),
    ];
    const stored = await appendToOpenSessionAnswered(db, messages);
    assert.deepEqual(stored, [
      { conversationIdentifier: first, otherBodyWithRequestId: false },
      undefined,
      undefined,
      { conversationIdentifier: second, otherBodyWithRequestId: false },
      { conversationIdentifier: first, otherBodyWithRequestId: false },
    ]);
    for (const [i, conversation] of [first, undefined, undefined, second, first].entries()) {
      const entries = await entriesWithId(ids[i]!);
      const answered = await recordsOf(records[i]!.requestId);
      if (conversation === undefined) {
        assert.deepEqual([entries, answered], [[], []], `message ${i}`);
      } else {
        assert.deepEqual(entries, [{ conversation_identifier: conversation }], `message ${i}`);
        assert.deepEqual(JSON.parse(answered[0]!.response_body!), answer(conversation), `message ${i}`);
      }
    }
    const sequences = await db
      .selectFrom('conversation_entries')
      .select(['entry_id', 'sequence'])
      .where('entry_id', 'in', [ids[0]!, ids[4]!])
      .orderBy('sequence')
      .execute();
    assert.deepEqual(
      sequences.map((e) => e.entry_id),
      [ids[0], ids[4]],
      'the entries of one conversation follow the order of their messages',
    );
  });

  test('a value the store refuses fails the shared statement whole, with a data exception: nothing is stored', async () => {
    await openConversation('+15550100011');
    const key = keyOf('+15550100011');
    const fine = entry(randomUUID(), '+15550100011');
    const outOfRange = { ...entry(randomUUID(), '+15550100011'), clientTimestamp: 1e30 };
    await assert.rejects(
      appendToOpenSessionAnswered(db, [oneMessage(key, fine, record(), 202, answer), oneMessage(key, outOfRange, record(), 202, answer)]),
      (err: { code?: string }) => /^22/.test(err.code ?? ''),
    );
    assert.equal((await entriesWithId(fine.entryId)).length, 0);
  });

  test('concurrent messages share statements, except two with the same entry id or key: the later is refused alone', async () => {
    const conversation = await openConversation('+15550100010');
    const atOnce = new MessagesAtOnce();
    const key = keyOf('+15550100010');
    const twin = randomUUID();
    const sharedKey = record();
    const [a, b, c, d] = await Promise.all([
      atOnce.append(db, oneMessage(key, entry(twin, '+15550100010'), record(), 202, answer)),
      atOnce.append(db, oneMessage(key, entry(twin, '+15550100010'), record(), 202, answer)),
      atOnce.append(db, oneMessage(key, entry(randomUUID(), '+15550100010'), sharedKey, 202, answer)),
      atOnce.append(db, oneMessage(key, entry(randomUUID(), '+15550100010'), sharedKey, 202, answer)),
    ]);
    const storedOne = { conversationIdentifier: conversation, otherBodyWithRequestId: false };
    assert.deepEqual([a, b, c, d], [storedOne, undefined, storedOne, undefined]);
    assert.equal((await entriesWithId(twin)).length, 1);
    assert.equal((await recordsOf(sharedKey.requestId)).length, 1);
  });
});

for (const kind of storeKinds()) {
  describe(`the idempotency step with a one-statement way (${kind})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    let idempotency: TransactionalIdempotency;
    before(async () => {
      store = await openTestStore(kind);
      idempotency = new TransactionalIdempotency(store.store.db, 60, undefined, kind);
    });
    after(() => store.dispose());

    const key = (requestId: string) => ({ operation: 'TEST', requestId, fingerprint: 'body' });
    const usual = (body: unknown) => () => Promise.resolve({ status: 202, body });

    test(
      kind === 'postgres'
        ? 'an answer at once is final; nothing done, a unique violation, a deadlock or a refused value falls back to the usual way'
        : 'SQLite never takes it',
      async () => {
        const calls: string[] = [];
        const atOnce =
          (what: 'answer' | 'nothing' | 'duplicate' | 'deadlock' | 'refused value') => (_db: unknown, r: { idempotencyKey: string }) => {
            calls.push(what);
            assert.ok(r.idempotencyKey.length > 0);
            if (what === 'duplicate') return Promise.reject(Object.assign(new Error('duplicate key'), { code: '23505' }));
            if (what === 'deadlock') return Promise.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
            if (what === 'refused value') {
              return Promise.reject(Object.assign(new Error('bigint out of range'), { code: '22003', severity: 'ERROR' }));
            }
            return Promise.resolve(
              what === 'answer' ? { response: { status: 202, body: 'at once' }, otherBodyWithRequestId: false } : undefined,
            );
          };
        const answered = await idempotency.run(key('a'), log, usual('usual'), atOnce('answer'));
        const nothing = await idempotency.run(key('b'), log, usual('usual'), atOnce('nothing'));
        const duplicate = await idempotency.run(key('c'), log, usual('usual'), atOnce('duplicate'));
        const deadlock = await idempotency.run(key('e'), log, usual('usual'), atOnce('deadlock'));
        const refusedValue = await idempotency.run(key('f'), log, usual('usual'), atOnce('refused value'));
        if (kind === 'postgres') {
          assert.deepEqual(calls, ['answer', 'nothing', 'duplicate', 'deadlock', 'refused value']);
          assert.equal(answered.body, 'at once');
        } else {
          assert.deepEqual(calls, []);
          assert.equal(answered.body, 'usual');
        }
        assert.equal(nothing.body, 'usual');
        assert.equal(duplicate.body, 'usual');
        assert.equal(deadlock.body, 'usual');
        assert.equal(refusedValue.body, 'usual');
        // Another error is the operation's failure, as it would be in the usual way.
        if (kind === 'postgres') {
          const failing = () => Promise.reject(Object.assign(new Error('connection lost'), { code: '08006' }));
          await assert.rejects(idempotency.run(key('d'), log, usual('usual'), failing), /connection lost/);
        }
      },
    );
  });
}
