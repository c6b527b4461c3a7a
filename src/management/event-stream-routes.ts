import express, { type Router } from 'express';
import { managementError } from '../contract/management-errors.ts';
import { matchesEventTypes } from '../outbound/event-type-filter.ts';
import type { ReceivedEvents } from '../outbound/received-events.ts';
import type { Wakeup } from '../util/wakeup.ts';
import { z } from 'zod';
import type { ManagementOperation } from './openapi/operation.ts';
import { parseInput } from './parse-input.ts';

const HEARTBEAT_MS = 15_000;
const BATCH = 500;

const streamQuery = z.object({
  after: z
    .string()
    .regex(/^\d+$/, 'must be a sequence number')
    .optional()
    .describe('Resume after this sequence (as Last-Event-ID does); 0 replays every event kept'),
  eventType: z.string().min(1).optional().describe('Comma-separated event or entry types to keep'),
});
const parkedQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export const eventStreamOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/events',
    tag: 'Outbound',
    summary: 'Normalized outbound events as Server-Sent Events (id = stored sequence; Last-Event-ID resumes)',
    query: streamQuery,
    produces: 'text/event-stream',
    responses: { 200: 'The event stream.', 400: 'A query parameter is not valid (`invalid_request`).' },
  },
  {
    method: 'get',
    path: '/api/parked-events',
    tag: 'Outbound',
    summary: 'Outbound events parked as malformed',
    query: parkedQuery,
    responses: { 200: '`{parkedEvents: [...]}`', 400: 'A query parameter is not valid (`invalid_request`).' },
  },
];

/**
 * `GET /api/events`: normalized outbound events as Server-Sent Events, `id` being the stored sequence.
 * Starts with new events, or after `Last-Event-ID` (or `?after=`) to resume; `?eventType=` filters by
 * event or entry type. `GET /api/parked-events` lists events parked as malformed.
 */
export function eventStreamRoutes(deps: { received: ReceivedEvents; stored: Wakeup; ending?: AbortSignal }): Router {
  const router = express.Router();
  router.get('/events', async (req, res) => {
    const query = parseInput(streamQuery, req.query);
    const resumeFrom = req.get('last-event-id') ?? query.after;
    if (resumeFrom !== undefined && !(/^\d+$/.test(resumeFrom) && Number.isSafeInteger(Number(resumeFrom)))) {
      throw managementError('invalid_request', `Resume after a sequence number (Last-Event-ID or ?after=); got "${resumeFrom}".`);
    }
    let cursor = resumeFrom !== undefined ? Number(resumeFrom) : await deps.received.streamStart();
    const types = query.eventType ? new Set(query.eventType.split(',')) : null;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const connection = { open: true };
    // The response's close is the client going away (the request's fires once its empty body is read).
    res.on('close', () => {
      connection.open = false;
      deps.stored.notify();
    });
    // A stopping process ends its streams; clients resume with Last-Event-ID elsewhere.
    const end = () => {
      connection.open = false;
      deps.stored.notify();
    };
    if (deps.ending?.aborted) connection.open = false;
    deps.ending?.addEventListener('abort', end, { once: true });
    res.on('close', () => deps.ending?.removeEventListener('abort', end));
    let lastWrite = Date.now();
    while (connection.open) {
      const seen = deps.stored.version;
      const rows = await deps.received.readAfter(cursor, BATCH);
      for (const { sequence, event } of rows) {
        cursor = sequence;
        if (!matchesEventTypes(types, event)) continue;
        res.write(`id: ${sequence}\nevent: ${event.eventType}\ndata: ${JSON.stringify(event)}\n\n`);
        lastWrite = Date.now();
      }
      if (rows.length === BATCH) continue;
      if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        res.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
      await deps.stored.wait(1000, seen);
    }
    res.end();
  });
  router.get('/parked-events', async (req, res) => {
    res.json({ parkedEvents: await deps.received.listParked(parseInput(parkedQuery, req.query).limit) });
  });
  return router;
}
