import express, { type Request, type Router } from 'express';
import { ApiError } from '../contract/api-error.ts';
import { apiError, INTERACTION_ERRORS } from '../contract/interaction-errors.ts';
import type { InteractionUpload, ReceivedInteraction } from '../attachments/interaction-upload.ts';
import type { CrmCall, CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { closeAfterAnswer } from '../http/close-after-answer.ts';
import { callOf } from '../http/interaction-guard.ts';
import { requestFingerprint } from './request-fingerprint.ts';
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
        received = await deps.upload.receive(req, res, call.orgId);
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
        const request = { parsed: received.request, raw: { body: received.jsonText, headers: {} } };
        const atOnce = deps.crm.postInteractionAtOnce?.bind(deps.crm);
        outcome = await deps.idempotency.run(
          { operation: 'POST /interactions', requestId: call.requestId, fingerprint: fingerprint(call, received) },
          req.log,
          (scope) => deps.crm.postInteraction(scope, call, request, attachments),
          atOnce && ((db, record) => atOnce(db, call, request, attachments, record)),
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

/** The caller, the json text and the content of each file: the same request sent again has the same fingerprint. */
function fingerprint(call: CrmCall, received: ReceivedInteraction): string {
  return requestFingerprint(call, received.jsonText, ...received.attachments.map((a) => `${a.attachmentIndex}:${a.sha256}`));
}
