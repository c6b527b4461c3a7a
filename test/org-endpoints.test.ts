import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { accessToken } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, TOPIC } from './helpers/outbound.ts';

const PASSWORD = 'local-org-password-for-tests';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function rest(bridge: BridgeProcess, pathname: string, token?: string) {
  const res = await fetch(`${bridge.baseUrl}${pathname}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

const query = (bridge: BridgeProcess, soql: string, token: string) =>
  rest(bridge, `/services/data/v62.0/query/?q=${encodeURIComponent(soql)}`, token);

function soapLogin(bridge: BridgeProcess, username: string, password: string) {
  const envelope =
    '<?xml version="1.0" encoding="utf-8"?><se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<se:Body><login xmlns="urn:partner.soap.sforce.com"><username>${username}</username><password>${password}</password></login></se:Body></se:Envelope>`;
  return fetch(`${bridge.baseUrl}/services/Soap/u/62.0`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', soapaction: 'login' },
    body: envelope,
  }).then(async (res) => ({ status: res.status, text: await res.text() }));
}

/** Subscribes with the real client and resolves with the first event's decoded payload text (fails after 20 s). */
/** The payload of the topic's first event, or (with `pattern`) of its first event that matches it, among the first 50. */
async function firstEvent(client: PubSubApiClient, pattern?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('no event within 20 s')), 20_000).unref();
    client.subscribeFromEarliestEvent(
      TOPIC,
      (_subscription: unknown, type: string, data: any) => {
        const payload = type === 'event' ? String(data.payload.Payload__c?.string ?? data.payload.Payload__c) : undefined;
        if (payload !== undefined && (!pattern || pattern.test(payload))) resolve(payload);
        if (type === 'error') reject(new Error(JSON.stringify(data)));
      },
      pattern ? 50 : 1,
    );
  });
}

for (const store of storeKinds()) {
  describe(`org endpoints that channel integrations call on start (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store, env: { LOCAL_PASSWORD: PASSWORD } });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    test('GET /services/data lists the API versions without a session, each with its release label', async () => {
      const { status, body } = await rest(bridge, '/services/data');
      assert.equal(status, 200);
      assert.deepEqual(
        body.find((v: any) => v.version === '62.0'),
        { label: "Winter '25", url: '/services/data/v62.0', version: '62.0' },
      );
    });

    test("the channel definition query answers the local org's channel with the outbound event's names", async () => {
      const { status, body } = await query(
        bridge,
        `SELECT Id, DeveloperName, RoutingOwner, ConsentOwner, CustomPlatformEvent, CustomEventTypeField, CustomEventPayloadField, ConversationVendorInfo.VendorType FROM ConversationChannelDefinition WHERE DeveloperName = '${LOCAL_ORG.authorizationContext}' ORDER BY DeveloperName ASC`,
        token,
      );
      assert.equal(status, 200);
      assert.equal(body.totalSize, 1);
      const [record] = body.records;
      assert.equal(record.attributes.type, 'ConversationChannelDefinition');
      assert.equal(record.DeveloperName, LOCAL_ORG.authorizationContext);
      assert.equal(record.RoutingOwner, 'Salesforce');
      assert.equal(record.ConsentOwner, 'Partner');
      assert.equal(record.CustomPlatformEvent, 'BYOC_Outbound_Event__e');
      assert.equal(record.CustomEventTypeField, 'EventType__c');
      assert.equal(record.CustomEventPayloadField, 'Payload__c');
      assert.equal(record.ConversationVendorInfo.VendorType, 'BringYourOwnChannelPartner');
      assert.match(record.Id, /^[a-zA-Z0-9]{18}$/);
    });

    test('MessagingChannel records follow the channels added through the management API', async () => {
      const soql = (address: string) =>
        `SELECT Id, IsActive FROM MessagingChannel WHERE ChannelAddressIdentifier = '${address}' AND MessageType = 'Custom'`;
      const seeded = await query(bridge, soql(LOCAL_ORG.channel), token);
      assert.equal(seeded.body.totalSize, 1);
      assert.equal(seeded.body.records[0].IsActive, true);

      const added = await managementRequest(bridge, 'POST', '/api/channels', {
        channelAddressIdentifier: 'org-endpoints-second-channel',
        authorizationContext: 'Second_Channel',
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const second = await query(bridge, soql('org-endpoints-second-channel'), token);
      assert.equal(second.body.totalSize, 1);
      const definitions = await query(bridge, 'SELECT COUNT(Id) total FROM ConversationChannelDefinition', token);
      assert.equal(definitions.body.records[0].total, 2);
    });

    test('refusals come in the REST API shape: no session 401, unknown object 400, unknown resource 404', async () => {
      const none = await query(bridge, 'SELECT Id FROM MessagingChannel', 'not-a-token');
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      const account = await query(bridge, 'SELECT Id FROM Account', token);
      assert.equal(account.status, 400);
      assert.equal(account.body[0].errorCode, 'INVALID_TYPE');
      const missing = await rest(bridge, '/services/data/v62.0/sobjects/Account', token);
      assert.equal(missing.status, 404);
      assert.equal(missing.body[0].errorCode, 'NOT_FOUND');
      const noQuery = await rest(bridge, '/services/data/v62.0/query', token);
      assert.equal(noQuery.status, 400);
      assert.equal(noQuery.body[0].errorCode, 'MALFORMED_QUERY');
    });

    test('the outbound platform event describes its custom fields', async () => {
      const { status, body } = await rest(bridge, '/services/data/v62.0/sobjects/BYOC_Outbound_Event__e/describe', token);
      assert.equal(status, 200);
      const names = body.fields.map((f: any) => f.name);
      for (const field of ['Payload__c', 'EventType__c', 'ChannelAddressIdentifier__c', 'Recipient__c'])
        assert.ok(names.includes(field), field);
    });

    test('SOAP login with LOCAL_PASSWORD answers a session id that works on the REST API', async () => {
      const res = await soapLogin(bridge, LOCAL_ORG.username, PASSWORD);
      assert.equal(res.status, 200, res.text);
      const sessionId = /<sessionId>([^<]+)<\/sessionId>/.exec(res.text)?.[1];
      assert.ok(sessionId);
      assert.match(res.text, new RegExp(`<serverUrl>${bridge.baseUrl}/services/Soap/u/62.0/${LOCAL_ORG.orgId}</serverUrl>`));
      assert.match(res.text, new RegExp(`<organizationId>${LOCAL_ORG.orgId}</organizationId>`));
      const channels = await query(bridge, 'SELECT Id FROM MessagingChannel', sessionId);
      assert.equal(channels.status, 200);
    });

    test('SOAP login with a wrong password or an agent user is INVALID_LOGIN; a call other than login is refused', async () => {
      const wrong = await soapLogin(bridge, LOCAL_ORG.username, 'not-the-password');
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /<faultcode>sf:INVALID_LOGIN<\/faultcode>/);
      const agent = await soapLogin(bridge, 'agent.one@byoc.local', PASSWORD);
      assert.equal(agent.status, 401);
      const other = await fetch(`${bridge.baseUrl}/services/Soap/u/62.0`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: '<x/>',
      });
      assert.equal(other.status, 400);
      assert.match(await other.text(), /INVALID_OPERATION/);
    });

    test("the Pub/Sub client's username-password mode logs in over SOAP and receives an agent reply", async () => {
      const conversation = await startConversation(bridge, 'soap-login-user');
      await sendAgentMessage(bridge, conversation, { text: 'reply for a password client' });
      const client = new PubSubApiClient(
        {
          authType: 'username-password',
          loginUrl: bridge.baseUrl,
          username: LOCAL_ORG.username,
          password: PASSWORD,
          userToken: '',
          pubSubEndpoint: `localhost:${bridge.pubSubPort}`,
          rejectUnauthorizedSsl: false,
        },
        silent,
      );
      try {
        await client.connect();
        // The org also publishes of itself (the session the conversation opened): the agent's reply is among the first.
        const payload = await firstEvent(client, /reply for a password client/);
        assert.match(payload, /"entryType":"Message"/);
      } finally {
        client.close();
      }
    });

    test("a client that names the org's URL with https:// and a trailing slash may subscribe", async () => {
      const client = new PubSubApiClient(
        {
          authType: 'user-supplied',
          accessToken: token,
          instanceUrl: `${bridge.baseUrl.replace(/^http:/, 'https:')}/`,
          organizationId: LOCAL_ORG.orgId,
          pubSubEndpoint: `localhost:${bridge.pubSubPort}`,
          rejectUnauthorizedSsl: false,
        },
        silent,
      );
      try {
        await client.connect();
        const conversation = await startConversation(bridge, 'https-instance-user');
        await sendAgentMessage(bridge, conversation, { text: 'reply for an https client' });
        assert.ok(await firstEvent(client));
      } finally {
        client.close();
      }
    });
  });
}

describe('SOAP login without LOCAL_PASSWORD', () => {
  let bridge: BridgeProcess;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.dispose());

  test('is refused as INVALID_LOGIN, naming the setting that turns it on', async () => {
    const res = await soapLogin(bridge, LOCAL_ORG.username, 'anything');
    assert.equal(res.status, 401);
    assert.match(res.text, /LOCAL_PASSWORD/);
  });
});
