import { createHash } from 'node:crypto';
import express, { type Router } from 'express';
import multer from 'multer';
import { ApiError } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import { parseInteractionJsonPart } from '../contract/interaction-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { callOf } from '../http/interaction-guard.ts';
import { sendOutcome } from './send-outcome.ts';

/** `POST /api/v1/interactions`: multipart with a `json` part (with or without `;type=application/json`). */
export function interactionsRoute(deps: { crm: CrmPort; idempotency: Idempotency; jsonPartLimitBytes: number }): Router {
  const router = express.Router();
  const multipart = multer({ limits: { fieldSize: deps.jsonPartLimitBytes, fields: 8, parts: 16 } });

  router.post(
    '/interactions',
    (req, _res, next) => {
      if (!req.is('multipart/form-data')) {
        next(new ApiError(415, ErrorCode.UnsupportedMediaType, 'Send the interaction request as multipart/form-data with a "json" part.'));
      } else next();
    },
    multipart.none(),
    async (req, res) => {
      const call = callOf(res);
      const jsonPart = (req.body as Record<string, unknown> | undefined)?.json;
      const jsonText = typeof jsonPart === 'string' ? jsonPart : undefined;
      const request = parseInteractionJsonPart(jsonText);
      const outcome = await deps.idempotency.run(
        { operation: 'POST /interactions', requestId: call.requestId, fingerprint: sha256(jsonText ?? '') },
        req.log,
        () => deps.crm.postInteraction(call, request),
      );
      sendOutcome(res, outcome);
    },
  );
  return router;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
