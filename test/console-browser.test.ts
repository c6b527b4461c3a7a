import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
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

  before(async () => {
    // One attempt then the dead-letter state, so a retry from the console is needed.
    bridge = await startBridge({ env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.1' } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser.close();
    await (await receiver).close();
    await bridge.dispose();
  });
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
