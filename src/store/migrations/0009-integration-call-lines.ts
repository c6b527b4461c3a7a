import type { Kysely, Migration } from 'kysely';

/** The dispatcher holds a call back while its line (integration, conversation) has an earlier one pending. */
export function integrationCallLines(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('integration_calls_line')
        .on('integration_calls')
        .columns(['integration_id', 'conversation_identifier', 'status', 'event_sequence'])
        .execute();
    },
  };
}
