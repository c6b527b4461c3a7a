import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { releaseLabel } from '../src/local-org/salesforce-rest/api-versions.ts';
import { ORG_OBJECTS, type OrgRecord } from '../src/local-org/salesforce-rest/org-records.ts';
import { runQuery } from '../src/local-org/salesforce-rest/query-runner.ts';
import { RestError } from '../src/local-org/salesforce-rest/rest-error.ts';
import { parseSoql } from '../src/local-org/salesforce-rest/soql.ts';
import { namesInstance } from '../src/local-org/pubsub/instance-url.ts';

const vendor: OrgRecord = {
  Id: '0Yk5g00000000AAAA',
  DeveloperName: 'Vendor',
  MasterLabel: 'Vendor',
  VendorType: 'BringYourOwnChannelPartner',
};
const definition = (name: string, routingOwner: string): OrgRecord => ({
  Id: `0Yj5g0000000${name.length}AAA`,
  DeveloperName: name,
  MasterLabel: name,
  NamespacePrefix: null,
  RoutingOwner: routingOwner,
  ConsentOwner: 'Partner',
  ConversationVendorInfoId: vendor.Id,
  ConversationVendorInfo: vendor,
  CustomPlatformEvent: 'BYOC_Outbound_Event__e',
  CustomEventPayloadField: 'Payload__c',
  CustomEventTypeField: 'EventType__c',
  CustomEventChannelAddressIdField: 'ChannelAddressIdentifier__c',
  CustomEventRecipientField: 'Recipient__c',
  IsInboundReceiptsEnabled: true,
  IsTypingIndicatorDisabled: false,
});
const records = new Map<string, OrgRecord[]>([
  ['ConversationChannelDefinition', [definition('Zeta_Channel', 'Partner'), definition('Alpha', 'Salesforce')]],
  ['ConversationVendorInfo', [vendor]],
  [
    'MessagingChannel',
    [{ Id: '0Mj5g00000000AAAA', DeveloperName: 'C1', MessageType: 'Custom', ChannelAddressIdentifier: 'abc', IsActive: true }],
  ],
]);
const run = (q: string) => runQuery(q, ORG_OBJECTS, records, 62);
const refusal = (q: string) => {
  try {
    run(q);
  } catch (err) {
    if (err instanceof RestError) return { status: err.status, errorCode: err.errorCode };
    throw err;
  }
  return assert.fail(`accepted: ${q}`);
};

describe('SOQL subset of the local org', () => {
  test('parses fields, dotted parents, COUNT with alias, AND-ed comparisons, ORDER BY and LIMIT', () => {
    assert.deepEqual(parseSoql("select Id, ConversationVendorInfo.VendorType from X where A = 'x' and B != 2 order by A desc limit 5"), {
      select: [
        { kind: 'field', path: ['Id'] },
        { kind: 'field', path: ['ConversationVendorInfo', 'VendorType'] },
      ],
      from: 'X',
      where: [
        { path: ['A'], operator: '=', value: 'x' },
        { path: ['B'], operator: '!=', value: 2 },
      ],
      orderBy: { path: ['A'], descending: true },
      limit: 5,
    });
    assert.deepEqual(parseSoql('SELECT COUNT(Id) totalCount FROM X').select, [{ kind: 'count', alias: 'totalCount' }]);
  });

  test('a channel definition by DeveloperName, as channel integrations ask for it on start', () => {
    const result = run(
      "SELECT Id, DeveloperName, RoutingOwner, CustomPlatformEvent, CustomEventPayloadField, NamespacePrefix FROM ConversationChannelDefinition WHERE DeveloperName = 'Zeta_Channel' ORDER BY DeveloperName ASC",
    );
    assert.equal(result.totalSize, 1);
    assert.equal(result.done, true);
    assert.deepEqual(result.records[0], {
      attributes: {
        type: 'ConversationChannelDefinition',
        url: `/services/data/v62.0/sobjects/ConversationChannelDefinition/${definition('Zeta_Channel', '').Id}`,
      },
      Id: definition('Zeta_Channel', '').Id,
      DeveloperName: 'Zeta_Channel',
      RoutingOwner: 'Partner',
      CustomPlatformEvent: 'BYOC_Outbound_Event__e',
      CustomEventPayloadField: 'Payload__c',
      NamespacePrefix: null,
    });
  });

  test('a parent field comes back nested under its relationship with its own attributes', () => {
    const [row] = run(
      "SELECT Id, ConversationVendorInfo.VendorType FROM ConversationChannelDefinition WHERE DeveloperName = 'alpha'",
    ).records;
    assert.deepEqual(row?.ConversationVendorInfo, {
      attributes: { type: 'ConversationVendorInfo', url: `/services/data/v62.0/sobjects/ConversationVendorInfo/${vendor.Id}` },
      VendorType: 'BringYourOwnChannelPartner',
    });
  });

  test('names are case-insensitive; values compare case-insensitively; results are ordered and limited', () => {
    const result = run('select developername from conversationchanneldefinition order by DeveloperName limit 1');
    assert.deepEqual(
      result.records.map((r) => r.DeveloperName),
      ['Alpha'],
    );
    assert.equal(run("SELECT Id FROM MessagingChannel WHERE ChannelAddressIdentifier = 'ABC' AND MessageType = 'Custom'").totalSize, 1);
    assert.equal(run("SELECT Id FROM MessagingChannel WHERE MessageType != 'Custom'").totalSize, 0);
    assert.equal(run('SELECT Id FROM MessagingChannel WHERE IsActive = true').totalSize, 1);
  });

  test('COUNT(Id) answers one AggregateResult row under its alias', () => {
    assert.deepEqual(run('SELECT COUNT(Id) total FROM ConversationChannelDefinition'), {
      totalSize: 1,
      done: true,
      records: [{ attributes: { type: 'AggregateResult' }, total: 2 }],
    });
  });

  const refusals: Array<[string, string, number, string]> = [
    ['text that is not SOQL', 'DELETE FROM MessagingChannel', 400, 'MALFORMED_QUERY'],
    ['an unterminated string', "SELECT Id FROM MessagingChannel WHERE DeveloperName = 'x", 400, 'MALFORMED_QUERY'],
    ['an operator outside = and !=', "SELECT Id FROM MessagingChannel WHERE DeveloperName LIKE 'x%'", 400, 'MALFORMED_QUERY'],
    ['OR between conditions', "SELECT Id FROM MessagingChannel WHERE DeveloperName = 'a' OR DeveloperName = 'b'", 400, 'MALFORMED_QUERY'],
    ['a negative LIMIT', 'SELECT Id FROM MessagingChannel LIMIT -1', 400, 'MALFORMED_QUERY'],
    ['COUNT mixed with fields', 'SELECT Id, COUNT(Id) FROM MessagingChannel', 400, 'MALFORMED_QUERY'],
    ['an object the local org does not keep', 'SELECT Id FROM Account', 400, 'INVALID_TYPE'],
    ['a field the object does not have', 'SELECT Id, Name FROM MessagingChannel', 400, 'INVALID_FIELD'],
    ['a relationship the object does not have', 'SELECT Owner.Name FROM ConversationChannelDefinition', 400, 'INVALID_FIELD'],
    [
      'a field of a parent that it does not have',
      'SELECT ConversationVendorInfo.Nope FROM ConversationChannelDefinition',
      400,
      'INVALID_FIELD',
    ],
  ];
  for (const [what, query, status, errorCode] of refusals) {
    test(`refuses ${what} with ${status} ${errorCode}`, () => {
      assert.deepEqual(refusal(query), { status, errorCode });
    });
  }
});

describe('release labels of API versions', () => {
  test('follow the Spring, Summer, Winter-of-next-year cycle around v60.0', () => {
    assert.deepEqual([58, 59, 60, 61, 62, 63].map(releaseLabel), [
      "Summer '23",
      "Winter '24",
      "Spring '24",
      "Summer '24",
      "Winter '25",
      "Spring '25",
    ]);
  });
});

describe('Pub/Sub instanceurl matching', () => {
  const ours = 'http://localhost:8085';
  const cases: Array<[string | undefined, boolean]> = [
    ['http://localhost:8085', true],
    ['https://localhost:8085', true],
    ['https://LOCALHOST:8085/', true],
    ['http://localhost:8085///', true],
    ['https://localhost', false],
    ['http://localhost:8086', false],
    ['http://127.0.0.2:8085', false],
    ['ftp://localhost:8085', false],
    ['not a url', false],
    [undefined, false],
  ];
  for (const [given, expected] of cases) {
    test(`${String(given)} ${expected ? 'names' : 'does not name'} ${ours}`, () => {
      assert.equal(namesInstance(given, ours), expected);
    });
  }
});
