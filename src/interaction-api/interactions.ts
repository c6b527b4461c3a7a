import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { ApiError } from '../contract/api-error.ts';
import { apiError, INTERACTION_ERRORS } from '../contract/interaction-errors.ts';
import type { InteractionUpload, ReceivedInteraction } from '../attachments/interaction-upload.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { callOf } from '../http/interaction-guard.ts';
import { sendOutcome } from './send-outcome.ts';

/**
 * `POST /api/v1/interactions`: multipart with a `json` part (with or without `;type=application/json`)
 * and, for AttachmentInteractions, `attachments` file parts streamed to the bucket as they arrive.
 */
export function interactionsRoute<Scope>(deps: {
  crm: CrmPort<Scope>;
  idempotency: Idempotency<Scope>;
  upload: InteractionUpload;
}): Router {
  const router = express.Router();
  router.post(
    '/interactions',
    (req, _res, next) => {
      if (!req.is('multipart/form-data')) {
        next(apiError('UnsupportedContentType', { expected: 'multipart/form-data with a "json" part' }));
      } else next();
    },
    async (req, res) => {
      const call = callOf(res);
      let received: ReceivedInteraction;
      try {
        received = await deps.upload.receive(req, call.orgId);
      } catch (err) {
        if (!req.complete) {
          // Too much is still coming: answer now. Otherwise read the little that is left, so the client
          // gets its answer on a healthy connection (some clients fail a request whose connection the
          // server half-closes while they are still writing, even with the answer in hand).
          const oversized = err instanceof ApiError && SIZE_REFUSALS.has(err.code);
          if (oversized || !(await drained(req, DRAIN_MS))) closeAfterAnswer(req, res);
        }
        throw err;
      }
      const { attachments } = received;
      let outcome;
      try {
        outcome = await deps.idempotency.run(
          { operation: 'POST /interactions', requestId: call.requestId, fingerprint: fingerprint(received) },
          req.log,
          (scope) =>
            deps.crm.postInteraction(scope, call, { parsed: received.request, raw: { body: received.jsonText, headers: {} } }, attachments),
        );
      } catch (err) {
        await deps.upload.discard(attachments, req.log);
        throw err;
      }
      // A replay answers with the first request's files; this request's copies are not referenced.
      if (outcome.replayed || outcome.status >= 300) await deps.upload.discard(attachments, req.log);
      sendOutcome(res, outcome);
    },
  );
  return router;
}

const SIZE_REFUSALS = new Set<number>([INTERACTION_ERRORS.FileTooLarge.code, INTERACTION_ERRORS.ContentLengthMismatch.code]);
/** How long the rest of a refused request's body is read before the refusal is answered anyway. */
const DRAIN_MS = 500;

/** Reads and discards the rest of the body; true when it ended within `ms`. */
function drained(req: Request, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off('end', onEnd);
      resolve(ended);
    };
    const onEnd = () => done(true);
    req.on('end', onEnd);
    req.resume();
  });
}

/** How long a refused client may keep sending after the answer before its connection is dropped. */
const LINGER_MS = 2000;

/**
 * A refusal is answered before the body ended. Closing the socket at once would make the kernel reset
 * the connection (unread data), and the reset can reach the client before it has read the answer. So
 * the answer is followed by a FIN, whatever still arrives is discarded unread, and the socket goes when
 * the client closes its side or after LINGER_MS.
 */
function closeAfterAnswer(req: Request, res: Response) {
  res.on('finish', () => {
    const socket = req.socket;
    req.resume();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** The json text and the content of each file: the same request sent again has the same fingerprint. */
function fingerprint(received: ReceivedInteraction): string {
  const hash = createHash('sha256').update(received.jsonText);
  for (const a of received.attachments) hash.update(`\n${a.attachmentIndex}:${a.sha256}`);
  return hash.digest('hex');
}
