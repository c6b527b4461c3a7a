import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { printLogOnFailure, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { curlEnv, isInteractionExample, readmeExamples, runExample } from './helpers/readme-examples.ts';

describe('the README curl examples, run as written after eval "$(npm run -s curl-env)"', () => {
  let bridge: BridgeProcess;
  let exports: string;
  before(async () => {
    bridge = await startBridge();
    exports = curlEnv(bridge);
  });
  printLogOnFailure(() => bridge);
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
    const examples = readmeExamples().filter(isInteractionExample);
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
    // The end user's entries (the org's own, the session opening, are left out).
    const types = conversation.entries
      .filter((e: { sender: { role: string } }) => e.sender.role === 'EndUser')
      .map((e: { entryType: string }) => e.entryType);
    assert.deepEqual(types.slice(0, 4), ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed']);
    assert.ok(
      conversation.entries.some((e: { routingAttributes: unknown }) => e.routingAttributes !== null),
      'routingAttributes recorded',
    );

    // The other operations' examples, on that conversation as the README tells the reader to set it.
    const withConversation = `${exports}\nexport CONVERSATION_ID='${conversationIdentifier}'`;
    const operations = readmeExamples().filter((e) => !isInteractionExample(e));
    assert.ok(operations.length >= 8, `found ${operations.length} operation examples`);
    for (const example of operations) {
      const { output: out, body } = runExample(withConversation, example);
      assert.match(out, /\n20[02]\n?$/, `${example.title}: ${out}`);
      // POST /conversation answers with the conversation alone, the others with success.
      if (example.script.includes('/api/v1/conversation"'))
        assert.equal(body.conversationIdentifier, conversationIdentifier, example.title);
      else assert.equal(body.success, true, `${example.title}: ${out}`);
      if (example.script.includes(' -G ')) {
        const entries = body.conversationEntries as { entryPayload: { entryType: string } }[];
        assert.ok(entries.length >= 4, `${example.title}: the conversation's entries`);
        assert.equal(entries[0]?.entryPayload.entryType, 'Message', 'oldest first');
      }
    }
    const after = await bridge.management(`/api/conversations/${conversationIdentifier}`);
    const acknowledged = after.entries.filter((e: { acknowledgements: unknown[] }) => e.acknowledgements.length > 0);
    assert.deepEqual(
      acknowledged.map((e: { acknowledgements: { type: string }[] }) => e.acknowledgements.map((a) => a.type).sort()),
      [['Delivered', 'Read']],
    );
    const texts = after.entries.map(
      (e: { payload: { abstractMessage?: { staticContent?: { text?: string } } } }) => e.payload.abstractMessage?.staticContent?.text,
    );
    assert.ok(texts.includes('Added with conversationEntry'), 'the conversationEntry example');
    assert.ok(texts.includes('Sent an hour ago on another system'), 'the conversationHistory example');
    assert.deepEqual(after.routingAttributes, { Language: 'en_US' });
    assert.equal(typeof after.participants[0].leftAt, 'string', 'the end user left');
    assert.equal(after.messagingSessions[0].status, 'Ended');
    const org = await bridge.management('/api/org');
    assert.ok(
      org.channels.some((c: { capabilities: unknown }) => c.capabilities !== null),
      'capabilities registered',
    );
  });
});
