import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { curlEnv, readmeExamples, runExample } from './helpers/readme-examples.ts';

describe('the README curl examples, run as written after eval "$(npm run -s curl-env)"', () => {
  let bridge: BridgeProcess;
  let exports: string;
  before(async () => {
    bridge = await startBridge();
    exports = curlEnv(bridge);
  });
  after(() => bridge.dispose());

  test('curl-env prints every variable the examples use', () => {
    for (const name of [
      'BASE_URL',
      'ACCESS_TOKEN',
      'ORG_ID',
      'AUTHORIZATION_CONTEXT',
      'CHANNEL_ADDRESS_IDENTIFIER',
      'END_USER_CLIENT_IDENTIFIER',
      'CONSUMER_KEY',
      'USERNAME',
      'LOGIN_URL',
      'MANAGEMENT_URL',
      'ADMIN_KEY',
    ]) {
      assert.match(exports, new RegExp(`^export ${name}='[^']+'$`, 'm'), name);
    }
  });

  test('each interaction example answers 202 and the conversation shows the entries in order', async () => {
    const examples = readmeExamples();
    assert.ok(examples.length >= 5, `found ${examples.length} examples`);
    let conversationIdentifier: string | undefined;
    for (const example of examples) {
      const { title } = example;
      const { output: out, body } = runExample(exports, example);
      assert.match(out, /\b202\b/, `${title}: ${out}`);
      assert.equal(body.success, true, title);
      conversationIdentifier ??= body.conversationIdentifier;
      assert.equal(body.conversationIdentifier, conversationIdentifier, `${title} lands in the same conversation`);
    }
    const conversation = await bridge.management(`/api/conversations/${conversationIdentifier}`);
    const types = conversation.entries.map((e: { entryType: string }) => e.entryType);
    assert.deepEqual(types.slice(0, 4), ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed']);
    assert.ok(
      conversation.entries.some((e: { routingAttributes: unknown }) => e.routingAttributes !== null),
      'routingAttributes recorded',
    );
  });
});
