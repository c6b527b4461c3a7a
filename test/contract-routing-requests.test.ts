import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { validateAgentWorkRequest, validateUpdateAgentWorkRequest } from '../src/contract/agent-work-request.ts';
import { validateConsentRequest } from '../src/contract/consent-request.ts';
import { validateCancelRouteRequest, validateRouteRequest } from '../src/contract/route-request.ts';
import { validateRoutingResultRequest } from '../src/contract/routing-result-request.ts';
import { refusalOf } from './helpers/refusal.ts';

// The body refusals of /route, /routingResult, /agentWork and /consent that need no org state, as unit
// tests of the contract module. Refusals that depend on what the org holds (unknown queue, ended session,
// another conversation's work item, ...) stay end to end in routing.test.ts and consent-and-routing-events.test.ts.

const conversationIdentifier = randomUUID();
const workItemId = '0Mw5g00000Ab1cD';
const queueId = '00G5g00000ByQ01';
const flowId = '3005g00000ByF01';
const userId = '0055g00000ByA01';

type Case = [name: string, body: unknown, code: number];

function refusesEach(operation: string, validate: (body: unknown) => unknown, cases: Case[]) {
  for (const [name, body, code] of cases) {
    test(`${operation} refuses ${name} with 400 ${code}`, () => {
      assert.deepEqual(
        refusalOf(() => validate(body)),
        { status: 400, code },
      );
    });
  }
}

describe('POST /route validation', () => {
  const route = (routingInfo: unknown) => ({ conversationIdentifier, routingType: 'Initial', routingInfo });
  refusesEach('route', validateRouteRequest, [
    ['a flow without fallback queue', route({ flow: { flowId } }), 10024],
    ['neither flow nor queue', route({ routingAttributes: { a: 'b' } }), 10030],
    ['both flow and queue', route({ queueId, flow: { flowId, queueId } }), 10030],
    ['an empty queue id', route({ queueId: '' }), 10032],
    ['routingInfo that is not an object', route('queue'), 10089],
    ['routing attributes that are not strings', route({ queueId, routingAttributes: { Note: 3 } }), 10089],
    ['a missing conversation identifier', { routingType: 'Initial' }, 10018],
    ['a conversation identifier over 240 characters', { conversationIdentifier: 'c'.repeat(241), routingType: 'Initial' }, 10018],
    ['an unknown routing type', { conversationIdentifier, routingType: 'Sideways' }, 10089],
    ['an empty body', undefined, 10100],
    ['an empty object', {}, 10100],
    ['a JSON array', [conversationIdentifier], 10089],
  ]);

  test('route by queue, by flow, and by the channel configuration', () => {
    assert.deepEqual(validateRouteRequest(route({ queueId })).target, { method: 'Queue', queueId });
    assert.deepEqual(validateRouteRequest(route({ flow: { flowId, queueId } })).target, { method: 'Flow', flowId, queueId });
    assert.deepEqual(validateRouteRequest({ conversationIdentifier, routingType: 'Transfer' }).target, { method: 'ChannelConfiguration' });
  });
});

describe('DELETE /route validation', () => {
  refusesEach('cancel route', validateCancelRouteRequest, [
    ['a missing conversation identifier', { cancelReason: 'Cancel' }, 10018],
    ['an unknown cancel reason', { conversationIdentifier, cancelReason: 'Bored' }, 10089],
  ]);

  test('a cancel reason is optional', () => {
    assert.deepEqual(validateCancelRouteRequest({ conversationIdentifier }), { conversationIdentifier });
  });
});

describe('POST /routingResult validation', () => {
  const base = { conversationIdentifier, workItemId, externallyRouted: false };
  refusesEach('routingResult', validateRoutingResultRequest, [
    ['an error message with success', { ...base, success: true, errorMessage: 'but why' }, 10033],
    ['a failure without error message', { ...base, success: false }, 10034],
    ['a failure with a blank error message', { ...base, success: false, errorMessage: '  ' }, 10034],
    ['an 18-character work item id', { ...base, success: true, workItemId: `${workItemId}AAA` }, 10012],
    ['a missing externallyRouted', { conversationIdentifier, workItemId, success: true }, 10089],
    ['a success that is not a boolean', { ...base, success: 'yes' }, 10089],
    ['an error message that is not a string', { ...base, success: false, errorMessage: 7 }, 10089],
    ['an unknown routing type', { ...base, success: true, routingType: 'Sideways' }, 10089],
  ]);
});

describe('POST /agentWork validation', () => {
  const base = { userId, workItemId };
  refusesEach('agentWork', validateAgentWorkRequest, [
    ['both capacities', { ...base, capacityPercentage: 10, capacityWeight: 1 }, 10013],
    ['a percentage above 100', { ...base, capacityPercentage: 100.5 }, 10015],
    ['a negative percentage', { ...base, capacityPercentage: -1 }, 10015],
    ['a negative weight', { ...base, capacityWeight: -0.5 }, 10014],
    ['a weight as text', { ...base, capacityWeight: 'heavy' }, 10014],
    ['an 18-character work item id', { ...base, capacityWeight: 1, workItemId: `${workItemId}AAA` }, 10012],
    ['a missing work item id', { userId, capacityWeight: 1 }, 10012],
    ['no user id', { workItemId, capacityWeight: 1 }, 15106],
    ['an empty user id', { ...base, capacityWeight: 1, userId: ' ' }, 15106],
    ['a routing context that is not an object', { ...base, capacityWeight: 1, routingContext: 'x' }, 10089],
    [
      'a routing context without correlation id',
      { ...base, capacityWeight: 1, routingContext: { conversationIdentifier, routingType: 'Initial' } },
      10089,
    ],
  ]);

  test('capacities given as numeric strings are read as numbers, as Jackson-based services do', () => {
    assert.deepEqual(validateAgentWorkRequest({ ...base, capacityWeight: '1' }), { ...base, capacityWeight: 1 });
    assert.deepEqual(validateAgentWorkRequest({ ...base, capacityPercentage: '12.5' }), { ...base, capacityPercentage: 12.5 });
  });

  test('a numeric string still has to be a number within the bounds', () => {
    for (const [body, code] of [
      [{ ...base, capacityWeight: '-1' }, 10014],
      [{ ...base, capacityWeight: ' 1' }, 10014],
      [{ ...base, capacityWeight: '' }, 10014],
      [{ ...base, capacityWeight: '0x10' }, 10014],
      [{ ...base, capacityPercentage: '101' }, 10015],
    ] as const) {
      assert.deepEqual(
        refusalOf(() => validateAgentWorkRequest(body)),
        { status: 400, code },
        JSON.stringify(body),
      );
    }
  });

  test("an external user id is the org's to judge: the contract module takes any (the local org refuses one not its agent)", () => {
    assert.deepEqual(validateAgentWorkRequest({ ...base, userId: 'ext-agent-7' }), { ...base, userId: 'ext-agent-7' });
  });

  test('neither capacity is valid here: the org takes it from the open routing', () => {
    assert.deepEqual(validateAgentWorkRequest(base), base);
  });
});

describe('PATCH /agentWork validation', () => {
  const patch = (body: unknown, contextType = 'ConversationChannelDefinition') => validateUpdateAgentWorkRequest(body, contextType);
  const workId = '0Bz5g00000Ab1cD';
  refusesEach('update agentWork', (body) => patch(body), [
    ['a work id that is not an id', { workId: 'work-1', status: 'Close', contextType: 'Agent' }, 10082],
    ['an unknown context type', { workId, status: 'Close', contextType: 'Robot' }, 10083],
    ['an unknown status', { workId, status: 'Finish', contextType: 'Agent' }, 10085],
    ['a bot’s work without botId', { workId, status: 'Close', contextType: 'Chatbot', workItemId }, 10084],
    ['a bot’s work without work item id', { workId, status: 'Close', contextType: 'Chatbot', botId: 'ext-bot-1' }, 10012],
  ]);

  test('update agentWork refuses a missing AuthorizationContextType header with 400 10093', () => {
    assert.deepEqual(
      refusalOf(() => validateUpdateAgentWorkRequest({ workId, status: 'Close', contextType: 'Agent' }, undefined)),
      { status: 400, code: 10093 },
    );
  });
});

describe('PATCH /consent validation', () => {
  const base = { endUserClientId: '+15550001', channelAddressIdentifier: randomUUID() };
  refusesEach('consent', validateConsentRequest, [
    ['an unknown consent status', { ...base, consentStatus: 'Maybe' }, 10021],
    ['a missing consent status', base, 10021],
    ['a missing end user', { channelAddressIdentifier: base.channelAddressIdentifier, consentStatus: 'OptedOut' }, 10020],
    ['a missing channel', { endUserClientId: base.endUserClientId, consentStatus: 'OptedOut' }, 10017],
  ]);
});
