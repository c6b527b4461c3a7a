import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBridge, type BridgeProcess } from './helpers/bridge-process.ts';

const root = path.resolve(import.meta.dirname, '..');

/** The bash blocks between the README's curl-examples markers, with the bold title before each. */
function readmeExamples(): Array<{ title: string; script: string }> {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = /<!-- curl-examples:start -->([\s\S]*?)<!-- curl-examples:end -->/.exec(readme)?.[1];
  assert.ok(section, 'README.md has a curl-examples section');
  return [...section.matchAll(/\*\*(.+?)\*\*[\s\S]*?```bash\n([\s\S]*?)```/g)].map((m) => ({ title: m[1]!, script: m[2]! }));
}

describe('the README curl examples, run as written after eval "$(npm run -s curl-env)"', () => {
  let bridge: BridgeProcess;
  let exports: string;
  before(async () => {
    bridge = await startBridge();
    exports = execFileSync('npm', ['run', '-s', 'curl-env'], { cwd: root, env: { ...process.env, ...bridge.env }, encoding: 'utf8' });
  });
  after(() => bridge.dispose());

  test('curl-env prints every variable the examples use', () => {
    for (const name of ['BASE_URL', 'ACCESS_TOKEN', 'ORG_ID', 'AUTHORIZATION_CONTEXT', 'CHANNEL_ADDRESS_IDENTIFIER',
      'END_USER_CLIENT_IDENTIFIER', 'CONSUMER_KEY', 'USERNAME', 'LOGIN_URL', 'MANAGEMENT_URL', 'ADMIN_KEY']) {
      assert.match(exports, new RegExp(`^export ${name}='[^']+'$`, 'm'), name);
    }
  });

  test('each interaction example answers 202 and the conversation shows the entries in order', async () => {
    const examples = readmeExamples();
    assert.ok(examples.length >= 5, `found ${examples.length} examples`);
    let conversationIdentifier: string | undefined;
    for (const { title, script } of examples) {
      const out = execFileSync('bash', ['-c', `set -e\n${exports}\n${script}`], { encoding: 'utf8' });
      assert.match(out, /\b202\b/, `${title}: ${out}`);
      const body = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1));
      assert.equal(body.success, true, title);
      conversationIdentifier ??= body.conversationIdentifier;
      assert.equal(body.conversationIdentifier, conversationIdentifier, `${title} lands in the same conversation`);
    }
    const conversation = await bridge.management(`/api/conversations/${conversationIdentifier}`);
    const types = conversation.entries.map((e: { entryType: string }) => e.entryType);
    assert.deepEqual(types.slice(0, 4), ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed']);
    assert.ok(conversation.entries.some((e: { routingAttributes: unknown }) => e.routingAttributes !== null), 'routingAttributes recorded');
  });
});
