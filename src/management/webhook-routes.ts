import express, { type Router } from 'express';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { managementError } from '../contract/management-errors.ts';
import { parseInput } from './parse-input.ts';
import { DELIVERY_STATUSES, type WebhookEndpoints } from '../outbound/webhook-endpoints.ts';

const secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be a Standard Webhooks secret: whsec_ followed by base64 (at least 18 bytes)')
  .refine((s) => {
    try {
      new Webhook(s);
      return true;
    } catch {
      return false;
    }
  }, 'is not valid base64');
const newEndpoint = z.object({
  url: z.url().refine((u) => /^https?:/i.test(u), 'must be an http(s) URL'),
  eventTypes: z.array(z.string().min(1).max(100)).max(50).optional(),
  channelAddressIdentifier: z.string().min(1).max(240).optional(),
  secret: secret.optional(),
  description: z.string().max(500).optional(),
});
const deliveryQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  endpointId: z.string().optional(),
  eventId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `POST/GET/DELETE /api/webhooks`, `GET /api/deliveries`, `POST /api/deliveries/{id}/retry`. */
export function webhookRoutes(deps: { webhooks: WebhookEndpoints }): Router {
  const router = express.Router();
  router.post('/webhooks', async (req, res) => {
    res.status(201).json(await deps.webhooks.create(parseInput(newEndpoint, req.body)));
  });
  router.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: await deps.webhooks.list() });
  });
  router.get('/webhooks/:id', async (req, res) => {
    const endpoint = await deps.webhooks.get(req.params.id);
    if (!endpoint) throw managementError('not_found', `No webhook endpoint "${req.params.id}".`);
    res.json(endpoint);
  });
  router.delete('/webhooks/:id', async (req, res) => {
    if (!(await deps.webhooks.delete(req.params.id))) throw managementError('not_found', `No webhook endpoint "${req.params.id}".`);
    res.status(204).end();
  });

  router.get('/deliveries', async (req, res) => {
    res.json({ deliveries: await deps.webhooks.listDeliveries(parseInput(deliveryQuery, req.query)) });
  });
  router.post('/deliveries/:id/retry', async (req, res) => {
    const delivery = await deps.webhooks.getDelivery(req.params.id);
    if (!delivery) throw managementError('not_found', `No delivery "${req.params.id}".`);
    if (!(await deps.webhooks.retry(req.params.id))) {
      throw managementError('conflict', `Delivery "${req.params.id}" is ${delivery.status}; only a dead-lettered delivery can be retried.`);
    }
    res.status(202).json(await deps.webhooks.getDelivery(req.params.id));
  });
  return router;
}
