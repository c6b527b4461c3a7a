import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.ts';
import { foundation } from './0001-foundation.ts';
import { outboundEventLog } from './0002-outbound-event-log.ts';
import { routing } from './0003-routing.ts';
import { attachments } from './0004-attachments.ts';
import { outboundDelivery } from './0005-outbound-delivery.ts';
import { integrations } from './0006-integrations.ts';
import { interactionOperations } from './0007-interaction-operations.ts';
import { entryIdIndex } from './0008-entry-id-index.ts';

/**
 * Every schema change, in order, one file each. Written once for both dialects: only column types
 * SQLite and PostgreSQL both understand (text, integer, bigint), identity columns chosen per dialect.
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_foundation': foundation(dialect),
    '0002_outbound_event_log': outboundEventLog(dialect),
    '0003_routing': routing(dialect),
    '0004_attachments': attachments(),
    '0005_outbound_delivery': outboundDelivery(dialect),
    '0006_integrations': integrations(dialect),
    '0007_interaction_operations': interactionOperations(),
    '0008_entry_id_index': entryIdIndex(),
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}
