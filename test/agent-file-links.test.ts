import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileLinks } from '../src/local-org/file-links.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';

/*
 * A file the local org's agent sends reaches the partner as an Attachments message whose URL the partner
 * can fetch with no credential of the bridge's: a link signed by the bridge for that file, expiring, served
 * on the Interaction API's port. A link changed in any part, or past its time, is refused with 403.
 */

const photo = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/chat-photo.png'));

for (const store of storeKinds()) {
  describe(`the agent's files, published as signed links (${store})`, () => {
    let bridge: BridgeProcess;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    before(async () => {
      bridge = await startBridge({ store });
      receiver = await startWebhookReceiver();
      assert.equal((await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url, eventTypes: ['Message'] })).status, 201);
    });
    after(async () => {
      await receiver.close();
      await bridge.dispose();
    });

    const sendFile = async (conversation: string, name: string, bytes: Buffer, mimeType: string) => {
      const res = await fetch(`${bridge.managementUrl}/api/conversations/${conversation}/files?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': mimeType },
        body: new Uint8Array(bytes),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { eventId: string };
    };
    const publishedAttachment = async (eventId: string) => {
      const delivery = await waitFor('the Attachments message at the webhook', () => receiver.delivered().find((r) => r.id === eventId));
      return delivery.json.data.payload.abstractMessage.staticContent.attachments[0] as { id: string; url: string; name: string };
    };

    test('the published URL downloads the file with no credential; the management link is not what is published', async () => {
      const conversation = await startConversation(bridge, 'file-link-user');
      const sent = await sendFile(conversation, 'chat-photo.png', photo, 'image/png');
      const attachment = await publishedAttachment(sent.eventId);
      const url = new URL(attachment.url);
      assert.equal(url.pathname, `/files/${attachment.id}`);
      assert.match(url.searchParams.get('expires') ?? '', /^\d+$/);
      assert.ok(Number(url.searchParams.get('expires')) * 1000 > Date.now(), 'not yet expired');
      assert.ok(!attachment.url.startsWith(bridge.managementUrl), 'not the management API, which needs the admin key');

      // The partner fetches it from the Interaction API's port, as published, with nothing of ours.
      const download = await fetch(`${bridge.baseUrl}${url.pathname}${url.search}`);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'image/png');
      assert.match(download.headers.get('content-disposition') ?? '', /chat-photo\.png/);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), photo);
    });

    test('a tampered, unsigned or expired link is refused with 403 and no bytes', async () => {
      const conversation = await startConversation(bridge, 'file-link-refusals');
      const first = await publishedAttachment((await sendFile(conversation, 'a.txt', Buffer.from('first file'), 'text/plain')).eventId);
      const second = await publishedAttachment((await sendFile(conversation, 'b.txt', Buffer.from('second file'), 'text/plain')).eventId);
      const url = new URL(first.url);
      const expires = url.searchParams.get('expires')!;
      const signature = url.searchParams.get('signature')!;
      const get = (pathname: string, query: string) => fetch(`${bridge.baseUrl}${pathname}${query}`);
      const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;

      const cases: Array<[string, string, string]> = [
        ['a changed signature', url.pathname, `?expires=${expires}&signature=${flipped}`],
        ['a later expiry', url.pathname, `?expires=${Number(expires) + 3600}&signature=${signature}`],
        ["another file's id with this signature", `/files/${second.id}`, `?expires=${expires}&signature=${signature}`],
        ['no signature', url.pathname, `?expires=${expires}`],
        ['nothing but the path', url.pathname, ''],
      ];
      for (const [name, pathname, query] of cases) {
        const res = await get(pathname, query);
        assert.equal(res.status, 403, name);
        const body = (await res.json()) as { code: string; message: string };
        assert.equal(body.code, 'forbidden', name);
      }

      // Signed by this bridge's own secret, but an hour past its time.
      const secret = Buffer.from(fs.readFileSync(path.join(bridge.dataDir, 'file-link-secret'), 'utf8').trim(), 'base64url');
      const expired = new URL(new FileLinks(secret, bridge.baseUrl, -3600).urlFor(first.id));
      const late = await get(expired.pathname, expired.search);
      assert.equal(late.status, 403);
      assert.match(((await late.json()) as { message: string }).message, /expired/);
      // The same secret, in time: the link works (so the refusal above was the expiry alone).
      const fresh = new URL(new FileLinks(secret, bridge.baseUrl).urlFor(first.id));
      const ok = await get(fresh.pathname, fresh.search);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'first file');
    });

    test('links keep working after a restart: the secret is kept under the data directory', async () => {
      const conversation = await startConversation(bridge, 'file-link-restart');
      const attachment = await publishedAttachment((await sendFile(conversation, 'kept.txt', Buffer.from('kept'), 'text/plain')).eventId);
      await bridge.restart();
      const url = new URL(attachment.url);
      const res = await fetch(`${bridge.baseUrl}${url.pathname}${url.search}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'kept');
    });
  });
}
