import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.ts';
import { foundation } from './0001-foundation.ts';
import { outboundEventLog } from './0002-outbound-event-log.ts';
import { routing } from './0003-routing.ts';
import { attachments } from './0004-attachments.ts';
import { outboundDelivery } from './0005-outbound-delivery.ts';
import { integrations } from './0006-integrations.ts';
import { interactionOperations } from './0007-interaction-operations.ts';
import { orderedLogIds } from './0008-ordered-log-ids.ts';
import { integrationCallLines } from './0009-integration-call-lines.ts';
import { uniqueEntryIds } from './0010-unique-entry-ids.ts';
import { deliveryIndexes } from './0011-delivery-indexes.ts';

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
    '0008_ordered_log_ids': orderedLogIds(dialect),
    '0009_integration_call_lines': integrationCallLines(),
    '0010_unique_entry_ids': uniqueEntryIds(),
    '0011_delivery_indexes': deliveryIndexes(),
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}
