import { createHash } from 'node:crypto';
import avro from 'avro-js';
import type { CustomEventFieldNames, CustomEventFields } from '../../contract/outbound-event.ts';

const ROLES = ['channelAddressId', 'payload', 'recipient', 'eventType'] as const;

/**
 * The Avro schema of the custom platform event as a Salesforce org describes it: the standard
 * CreatedDate and CreatedById fields, then one nullable string per custom field. The file in
 * `schemas/` is this function's output for the default names.
 */
export function customEventSchema(topicName: string, names: CustomEventFieldNames) {
  const distinct = new Set(ROLES.map((r) => names[r]));
  if (distinct.size !== ROLES.length) throw new Error('the four SF_PUB_SUB_CUSTOM_EVENT_*_FIELD names must differ');
  const docs: Record<(typeof ROLES)[number], string> = {
    channelAddressId: 'Legacy shape: the channel address identifier.',
    payload: "JSON text: the conversation entry (legacy) or channelAddressIdentifier, recipient and the entry (Spring '24).",
    recipient: 'Legacy shape: JSON text of the recipient participant.',
    eventType: "Spring '24 shape: Interaction, RoutingRequested, ...",
  };
  return {
    type: 'record',
    name: topicName.replace(/^\/event\//, ''),
    namespace: 'com.sforce.eventbus',
    fields: [
      { name: 'CreatedDate', type: 'long', doc: 'CreatedDate:DateTime, epoch milliseconds' },
      { name: 'CreatedById', type: 'string', doc: 'CreatedBy:EntityId' },
      ...ROLES.map((role) => ({ name: names[role], type: ['null', 'string'], default: null, doc: docs[role] })),
    ],
  };
}

/** Encodes and decodes the custom platform event with the configured field names. */
export class CustomEventCodec {
  readonly schemaJson: string;
  readonly schemaId: string;
  private readonly type;

  constructor(
    readonly topicName: string,
    readonly names: CustomEventFieldNames,
  ) {
    this.schemaJson = JSON.stringify(customEventSchema(topicName, names));
    this.schemaId = createHash('sha256').update(this.schemaJson).digest('base64url').slice(0, 22);
    this.type = avro.parse(this.schemaJson);
  }

  encode(fields: CustomEventFields, meta: { createdDate: number; createdById: string }): Buffer {
    const record: Record<string, unknown> = { CreatedDate: meta.createdDate, CreatedById: meta.createdById };
    for (const role of ROLES) {
      const value = fields[role];
      record[this.names[role]] = value === null || value === undefined ? null : { string: value };
    }
    return this.type.toBuffer(record);
  }

  decode(buffer: Buffer): { fields: CustomEventFields; createdDate: number; createdById: string } {
    const record = this.type.fromBuffer(buffer) as Record<string, unknown>;
    const unwrap = (v: unknown) => (v && typeof v === 'object' ? ((v as { string?: string }).string ?? null) : null);
    return {
      fields: {
        channelAddressId: unwrap(record[this.names.channelAddressId]),
        payload: unwrap(record[this.names.payload]) ?? '',
        recipient: unwrap(record[this.names.recipient]),
        eventType: unwrap(record[this.names.eventType]),
      },
      createdDate: Number(record.CreatedDate),
      createdById: String(record.CreatedById),
    };
  }
}
