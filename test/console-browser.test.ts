import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { accessToken } from './helpers/api-client.ts';
import { attachmentRequest, filePart, jsonPart, streamInteraction } from './helpers/attachments.ts';
import { hasChromium, launchBrowser } from './helpers/browser.ts';
import { startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../docs/screenshots');
const PHOTO = path.join(import.meta.dirname, 'fixtures', 'chat-photo.png');

describe('the console in a real browser (Debian chromium via playwright-core)', { skip: !hasChromium() && 'no /usr/bin/chromium' }, () => {
  let bridge: BridgeProcess;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let failing = true;
  const receiver = startWebhookReceiver((_attempt, _id) => (failing ? 503 : 200));
  const endUser = `browser-${randomUUID().slice(0, 8)}`;
  // The service an integration calls: 503 until told otherwise, then a JSON answer; records every request.
  let serviceAnswer = 503;
  const serviceRequests: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const service = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      serviceRequests.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(serviceAnswer, { 'content-type': 'application/json' }).end(JSON.stringify({ tier: 'gold' }));
    });
  });

  before(async () => {
    // One attempt then the dead-letter state, so a retry from the console is needed.
    bridge = await startBridge({
      env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.1', INTEGRATION_RETRY_SCHEDULE_SECONDS: '0.1', INTEGRATION_ALLOW_HTTP_LOOPBACK: 'true' },
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    // The console confirms before deleting or ending; the test says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser.close();
    await (await receiver).close();
    await new Promise<void>((resolve) => service.close(() => resolve()));
    await bridge.dispose();
  });
  const nav = (section: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section });
  const shot = (name: string, fullPage = true) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });

  test('sign in with the admin key: kept in sessionStorage, never in the URL', async () => {
    await page.goto(bridge.managementUrl);
    await page.getByLabel('Admin key').fill('wrong-key-wrong-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not the admin key of this bridge.').waitFor();
    await shot('sign-in');
    await page.getByLabel('Admin key').fill(bridge.adminKey);
    await page.getByLabel('Admin key').press('Enter');
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Outbound' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('byoc-admin-key')), bridge.adminKey);
    assert.ok(!page.url().includes(bridge.adminKey));
  });

  test('an inbound message appears in the conversations list without a reload', async () => {
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await startConversation(bridge, endUser);
    await page.getByRole('link', { name: endUser }).waitFor();
    await shot('conversations');
  });

  test('a reply sent as the agent reaches a test webhook', async () => {
    const hook = await receiver;
    await page.getByRole('link', { name: 'Outbound' }).click();
    await page.getByLabel('Endpoint URL').fill(hook.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.locator('#secret-value').textContent();
    assert.match(secret ?? '', /^whsec_/);
    failing = false;

    await page.getByRole('link', { name: 'Conversations' }).click();
    await page.getByRole('link', { name: endUser }).click();
    await page.getByRole('heading', { name: `Conversation with ${endUser}` }).waitFor();
    await page.getByLabel('Message text').fill('Hello from the console agent');
    await page.getByRole('button', { name: 'Send as agent' }).click();
    const delivered = await waitFor('the agent reply at the webhook', () =>
      hook.delivered().find((r) => JSON.stringify(r.json).includes('Hello from the console agent')),
    );
    assert.equal(hook.verify(secret!, delivered) !== undefined, true);
    assert.ok(JSON.stringify(delivered.json.data.recipient).includes(endUser), 'addressed to the end user');
    await page.locator('#entries li.agent', { hasText: 'Hello from the console agent' }).waitFor();
  });

  test('a file uploaded as the agent is stored, sent, and previewed in the conversation', async () => {
    const hook = await receiver;
    await page.getByLabel('File', { exact: true }).setInputFiles(PHOTO);
    await page.getByRole('button', { name: 'Send file' }).click();
    const preview = page.locator('#entries li.agent img.preview');
    await preview.waitFor();
    await waitFor('the agent file preview to load', () =>
      preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
    );
    const sent = await waitFor('the agent file at the webhook', () =>
      hook.delivered().find((r) => JSON.stringify(r.json).includes('chat-photo.png')),
    );
    const attachment = sent.json.data.payload.abstractMessage.staticContent.attachments[0];
    const bytes = await fetch(attachment.url, { headers: { authorization: `Bearer ${bridge.adminKey}` } });
    assert.equal(bytes.status, 200);
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), fs.readFileSync(PHOTO));
  });

  test('a rich message picked from the format list reaches the webhook as the agent sent it', async () => {
    const hook = await receiver;
    await page.getByText('Send a rich message').click();
    await page.getByLabel('Format (fills in a starting point)').selectOption('QuickReplies');
    const template = JSON.parse(await page.getByLabel('Message (the abstractMessage, JSON)').inputValue());
    assert.equal(template.choices.formatType, 'QuickReplies', 'choosing a format fills in its template');
    template.choices.text = 'Which one suits you?';
    await page.getByLabel('Message (the abstractMessage, JSON)').fill(JSON.stringify(template));
    await page.getByRole('button', { name: 'Send rich message' }).click();
    const sent = await waitFor('the quick replies at the webhook', () =>
      hook.delivered().find((r) => JSON.stringify(r.json).includes('Which one suits you?')),
    );
    const message = sent.json.data.payload.abstractMessage;
    assert.equal(message.messageType, 'ChoicesMessage');
    assert.deepEqual(
      message.choices.optionItems.map((o: any) => o.optionIdentifier),
      template.choices.optionItems.map((o: any) => o.optionIdentifier),
    );
    await page.locator('#entries li.agent', { hasText: '(QuickReplies) Which one suits you?' }).waitFor();

    await page.getByLabel('Message (the abstractMessage, JSON)').fill('{"messageType": ');
    await page.getByRole('button', { name: 'Send rich message' }).click();
    await page.locator('#status', { hasText: 'The message is not JSON' }).waitFor();
  });

  test('a file an end user uploads is previewed in the conversation', async () => {
    const photo = fs.readFileSync(PHOTO);
    const res = await streamInteraction(
      bridge,
      [
        jsonPart(attachmentRequest([{ contentLength: photo.length, text: 'my photo' }], { from: endUser })),
        filePart(photo, 'chat-photo.png', 'image/png'),
      ],
      { token: await accessToken(bridge) },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const preview = page.locator('#entries li.enduser img.preview');
    await preview.waitFor();
    await waitFor('the preview to load', () => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0));
    await shot('conversation');
  });

  test('a dead-lettered delivery is retried from the outbound page', async () => {
    const hook = await receiver;
    failing = true;
    await page.getByRole('button', { name: 'Typing started' }).click();
    await waitFor('the typing event to be dead-lettered', async () => {
      const res = await fetch(`${bridge.managementUrl}/api/deliveries?status=dead`, {
        headers: { authorization: `Bearer ${bridge.adminKey}` },
      });
      return ((await res.json()) as { deliveries: unknown[] }).deliveries.length === 1;
    });
    failing = false;
    const before = hook.delivered().length;
    await page.getByRole('link', { name: 'Outbound' }).click();
    await page.getByLabel('State').selectOption('dead');
    const retry = page.getByRole('button', { name: /^Retry delivery of / });
    await retry.waitFor();
    await shot('outbound');
    await retry.click();
    await waitFor('the retried delivery to arrive', () => hook.delivered().length > before);
    await page.getByLabel('State').selectOption('succeeded');
    await page.locator('#deliveries tr[data-state="succeeded"]').first().waitFor();
  });

  test('mark read and end the session from the console', async () => {
    await nav('Conversations').click();
    await page.getByRole('link', { name: endUser }).click();
    await page.getByRole('heading', { name: `Conversation with ${endUser}` }).waitFor();
    await page.getByRole('button', { name: 'Mark read' }).click();
    await page.locator('#entries li.enduser .receipt', { hasText: 'read' }).last().waitFor();
    await page.getByRole('button', { name: 'End session' }).click();
    await page.locator('#routing', { hasText: 'Ended' }).waitFor();
    const conversationId = decodeURIComponent(page.url().split('#/conversations/')[1]!);
    const shown = await (
      await fetch(`${bridge.managementUrl}/api/conversations/${encodeURIComponent(conversationId)}`, {
        headers: { authorization: `Bearer ${bridge.adminKey}` },
      })
    ).json();
    const types = (shown.entries as { entryType: string }[]).map((e) => e.entryType);
    assert.ok(types.includes('ReadAcknowledgement'), types.join());
    assert.ok(
      (shown.messagingSessions as { status: string }[]).every((session) => session.status === 'Ended'),
      'no session is open any more',
    );
  });

  test('route (transfer) to a queue, assign to an agent, accept and close the work from the console', async () => {
    const other = `routing-${randomUUID().slice(0, 8)}`;
    await startConversation(bridge, other);
    await nav('Conversations').click();
    await page.getByRole('link', { name: other }).click();
    await page.getByRole('heading', { name: `Conversation with ${other}` }).waitFor();
    await page.getByLabel('Routing type').selectOption('Transfer');
    await page.getByRole('button', { name: 'Route', exact: true }).click();
    await page.locator('#routing li', { hasText: /Open \(Transfer/ }).waitFor();
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('button', { name: /^Accept agent work / }).click();
    const close = page.getByRole('button', { name: /^Close agent work / });
    await close.waitFor();
    await shot('conversation-routing');
    await close.click();
    await page.locator('#routing li[data-status="Closed"]').waitFor();
    await page.locator('#integration-data', { hasText: 'Received → Transferred → Allocated → Accepted → Ended' }).waitFor();
  });

  test('an integration is created, edited, copied and deleted; its failed call is retried from the console', async () => {
    const secret = `api-key-${randomUUID()}`;
    await nav('Integrations').click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('CRM lookup');
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    await page.getByLabel('Endpoint URL').fill(`${serviceUrl}/lookup/{conversation.id}?event={event}`);
    await page.getByLabel('Received').check();
    await page.getByLabel('Direct conversations (no queue)').check();
    for (const box of await page.locator('input[id^="integration-queue-"]').all()) await box.check();
    await page.getByRole('button', { name: 'Add authentication' }).click();
    await page.getByLabel('Authentication 1 id').fill('api-key');
    await page.getByLabel('Secret (write-only)').fill(secret);
    await page.getByLabel('JSON configuration').fill(
      JSON.stringify({
        request: { method: 'POST', headers: { 'x-api-key': '{authentications.api-key}' }, body: { conversation: '{conversation.id}' } },
        response: { set: { 'agentData.tier': '$.tier' } },
      }),
    );
    await page.getByRole('button', { name: 'Create integration' }).click();
    const row = page.locator('#integrations tr', { hasText: 'CRM lookup' });
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the page never shows the secret');
    const listed = await (
      await fetch(`${bridge.managementUrl}/api/integrations`, { headers: { authorization: `Bearer ${bridge.adminKey}` } })
    ).text();
    assert.ok(listed.includes('"api-key"') && !listed.includes(secret), 'the API lists the authentication id, not its secret');

    // A new conversation is Received: the call fails twice (503), then is retried by hand and succeeds.
    const caller = `integration-${randomUUID().slice(0, 8)}`;
    await startConversation(bridge, caller);
    await page.getByLabel('Call state').selectOption('failed');
    const retry = page.getByRole('button', { name: /^Retry call / });
    await retry.waitFor();
    await page
      .getByRole('button', { name: /^Show call / })
      .first()
      .click();
    await page.locator('#call-detail pre', { hasText: '503' }).waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the call log masks the secret');
    await shot('integrations');
    serviceAnswer = 200;
    const before = serviceRequests.length;
    await retry.click();
    const answered = await waitFor('the retried call', () => serviceRequests.slice(before)[0]);
    assert.equal(answered.headers['x-api-key'], secret, 'the secret is sent to the service');
    assert.match(answered.url, /^\/lookup\/[^/?]+\?event=Received$/);
    await page.getByLabel('Call state').selectOption('succeeded');
    await page.locator('#integration-calls tr[data-state="succeeded"]').first().waitFor();

    // The answer's value is shown to the agent on the conversation.
    await nav('Conversations').click();
    await page.getByRole('link', { name: caller }).click();
    await page.locator('#integration-data', { hasText: 'gold' }).waitFor();

    await nav('Integrations').click();
    await page.getByRole('button', { name: 'Edit CRM lookup' }).click();
    assert.equal(await page.getByLabel('Secret (write-only)').inputValue(), '', 'a stored secret is not put back in the form');
    await page.getByLabel('Name').fill('CRM lookup v2');
    await page.getByRole('button', { name: 'Save integration' }).click();
    await page.locator('#integrations tr', { hasText: 'CRM lookup v2' }).waitFor();
    await page.getByRole('button', { name: 'Copy CRM lookup v2' }).click();
    await page.getByRole('button', { name: 'Delete CRM lookup v2 (copy)' }).click();
    await page.getByRole('button', { name: 'Delete CRM lookup v2 (copy)' }).waitFor({ state: 'detached' });
    const kept = (await (
      await fetch(`${bridge.managementUrl}/api/integrations`, { headers: { authorization: `Bearer ${bridge.adminKey}` } })
    ).json()) as { integrations: { name: string; authentications: { id: string }[] }[] };
    assert.deepEqual(
      kept.integrations.map((i) => [i.name, i.authentications.map((a) => a.id)]),
      [['CRM lookup v2', ['api-key']]],
      'the edit kept the stored secret’s authentication; the copy is gone',
    );
  });

  test('the org page and the API docs render', async () => {
    await page.getByRole('link', { name: 'Org' }).click();
    await page.getByRole('heading', { name: 'curl-env values' }).waitFor();
    const example = await page.locator('#curl-example').textContent();
    assert.match(example ?? '', new RegExp(`POST "${bridge.baseUrl}/api/v1/interactions"`));
    assert.ok(!(example ?? '').includes('$BASE_URL'));
    await shot('org');
    await page.getByRole('link', { name: 'API docs' }).click();
    await page.getByRole('heading', { name: 'Outbound', level: 2 }).waitFor();
    await page.locator('#postApiWebhooks').waitFor();
    await shot('docs', false); // the whole reference is long; its first screen shows the layout
  });
});
