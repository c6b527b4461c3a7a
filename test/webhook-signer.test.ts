import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateSigningSecret } from '../src/outbound/webhook-endpoints.ts';
import { WebhookSigner } from '../src/outbound/webhook-sender.ts';

test('the delivery signer makes the Standard Webhooks signature the standardwebhooks library makes and verifies', () => {
  const signer = new WebhookSigner();
  for (const secret of [generateSigningSecret(), generateSigningSecret()]) {
    const id = `evt-${Math.random()}`;
    const sentAt = new Date();
    const seconds = Math.floor(sentAt.getTime() / 1000);
    const body = JSON.stringify({ type: 'Interaction', data: { text: 'héllo ✓', n: 1 } });
    const signature = signer.sign(secret, id, seconds, body);
    assert.equal(signature, new Webhook(secret).sign(id, sentAt, body));
    assert.doesNotThrow(() =>
      new Webhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': signature }),
    );
    // The same signer, asked again after the secret rotated, signs with the new secret.
    const rotated = generateSigningSecret();
    assert.notEqual(signer.sign(rotated, id, seconds, body), signature);
  }
});
