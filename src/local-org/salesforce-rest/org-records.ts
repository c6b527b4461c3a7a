import { createHash } from 'node:crypto';
import type { Db } from '../../store/database.ts';
import type { CustomEventFieldNames } from '../../contract/outbound-event.ts';
import { toEighteenCharId } from '../../contract/salesforce-ids.ts';

/** A record as the REST API returns it: field values by API name, parent records nested under their relationship name. */
export interface OrgRecord {
  Id: string;
  [field: string]: unknown;
}

/** One queryable object: its API name, its fields, and the parent relationships a query may follow. */
export interface OrgObject {
  name: string;
  fields: readonly string[];
  parents: Readonly<Record<string, string>>;
}

export const ORG_OBJECTS: readonly OrgObject[] = [
  {
    name: 'ConversationChannelDefinition',
    fields: [
      'Id',
      'DeveloperName',
      'MasterLabel',
      'NamespacePrefix',
      'RoutingOwner',
      'ConsentOwner',
      'ConversationVendorInfoId',
      'CustomPlatformEvent',
      'CustomEventPayloadField',
      'CustomEventTypeField',
      'CustomEventChannelAddressIdField',
      'CustomEventRecipientField',
      'IsInboundReceiptsEnabled',
      'IsTypingIndicatorDisabled',
    ],
    parents: { ConversationVendorInfo: 'ConversationVendorInfo' },
  },
  {
    name: 'ConversationVendorInfo',
    fields: ['Id', 'DeveloperName', 'MasterLabel', 'VendorType'],
    parents: {},
  },
  {
    name: 'MessagingChannel',
    fields: [
      'Id',
      'DeveloperName',
      'MasterLabel',
      'MessageType',
      'ChannelAddressIdentifier',
      'IsActive',
      'ConversationChannelDefinitionId',
    ],
    parents: { ConversationChannelDefinition: 'ConversationChannelDefinition' },
  },
];

export interface OrgRecordSettings {
  orgId: string;
  topicName: string;
  fields: CustomEventFieldNames;
}

/**
 * A stable id for a record the local org derives from other state (a channel's definition, say): the same
 * input gives the same id after every restart, so a client that cached it keeps working.
 */
function derivedId(prefix: string, key: string): string {
  const digits = createHash('sha256').update(key).digest('hex').slice(0, 10).toUpperCase();
  return toEighteenCharId(`${prefix}5g${digits}`);
}

const developerName = (value: string) => value.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, 'C$1');

/** Every record of the queryable objects, built from the org's channels and the outbound event settings. */
export async function loadOrgRecords(db: Db, settings: OrgRecordSettings): Promise<Map<string, OrgRecord[]>> {
  const channels = await db
    .selectFrom('channels')
    .selectAll()
    .where('org_id', '=', settings.orgId)
    .orderBy('created_at')
    .orderBy('channel_address_identifier')
    .execute();
  const vendor: OrgRecord = {
    Id: derivedId('0Yk', `${settings.orgId}:vendor`),
    DeveloperName: 'BYOC_Partner',
    MasterLabel: 'BYOC partner',
    VendorType: 'BringYourOwnChannelPartner',
  };
  const platformEvent = settings.topicName.replace(/^\/event\//, '');
  const definitions = new Map<string, OrgRecord>();
  const messagingChannels: OrgRecord[] = [];
  for (const channel of channels) {
    let definition = definitions.get(channel.authorization_context);
    if (!definition) {
      definition = {
        Id: derivedId('0Yj', `${settings.orgId}:${channel.authorization_context}`),
        DeveloperName: channel.authorization_context,
        MasterLabel: channel.authorization_context.replace(/_/g, ' '),
        NamespacePrefix: null,
        RoutingOwner: channel.routing_owner,
        ConsentOwner: channel.consent_owner,
        ConversationVendorInfoId: vendor.Id,
        ConversationVendorInfo: vendor,
        CustomPlatformEvent: platformEvent,
        CustomEventPayloadField: settings.fields.payload,
        CustomEventTypeField: settings.fields.eventType,
        CustomEventChannelAddressIdField: settings.fields.channelAddressId,
        CustomEventRecipientField: settings.fields.recipient,
        IsInboundReceiptsEnabled: true,
        IsTypingIndicatorDisabled: false,
      };
      definitions.set(channel.authorization_context, definition);
    }
    messagingChannels.push({
      Id: derivedId('0Mj', `${settings.orgId}:${channel.channel_address_identifier}`),
      DeveloperName: developerName(`Channel_${channel.channel_address_identifier}`).slice(0, 80),
      MasterLabel: `${channel.authorization_context} ${channel.channel_address_identifier}`,
      MessageType: 'Custom',
      ChannelAddressIdentifier: channel.channel_address_identifier,
      IsActive: channel.active === 1,
      ConversationChannelDefinitionId: definition.Id,
      ConversationChannelDefinition: definition,
    });
  }
  return new Map<string, OrgRecord[]>([
    ['ConversationChannelDefinition', [...definitions.values()]],
    ['ConversationVendorInfo', [vendor]],
    ['MessagingChannel', messagingChannels],
  ]);
}
