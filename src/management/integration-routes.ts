import express, { type Router } from 'express';
import { managementError } from '../contract/management-errors.ts';
import type { ConversationValues } from '../integrations/conversation-values.ts';
import type { IntegrationCalls } from '../integrations/integration-calls.ts';
import { callQuery, integrationInput, urlProblem, type IntegrationInput } from '../integrations/integration-input.ts';
import { IntegrationInputError, type IntegrationStore } from '../integrations/integration-store.ts';
import type { ManagementOperation } from './openapi/operation.ts';
import { parseInput } from './parse-input.ts';

const TAG = 'Integrations';
const invalid = '`invalid_request`: the body breaks a rule (url not https, an unknown queue, an authentication without a secret, …).';

export const integrationOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/integrations',
    tag: TAG,
    summary: 'Create an integration; authentication secrets are write-only and never returned (docs/integrations.md)',
    body: integrationInput,
    responses: { 201: 'The integration, with its authentication ids only.', 400: invalid },
  },
  {
    method: 'get',
    path: '/api/integrations',
    tag: TAG,
    summary: 'Integrations, oldest first',
    responses: { 200: '`{integrations: [...]}`' },
  },
  {
    method: 'get',
    path: '/api/integrations/:id',
    tag: TAG,
    summary: 'One integration',
    responses: { 200: 'The integration.', 404: 'No such integration (`not_found`).' },
  },
  {
    method: 'put',
    path: '/api/integrations/:id',
    tag: TAG,
    summary: 'Replace an integration; an authentication given without its secret keeps the stored one',
    body: integrationInput,
    responses: { 200: 'The integration.', 400: invalid, 404: 'No such integration (`not_found`).' },
  },
  {
    method: 'delete',
    path: '/api/integrations/:id',
    tag: TAG,
    summary: 'Remove an integration; its pending calls are not made',
    responses: { 204: 'Removed.', 404: 'No such integration (`not_found`).' },
  },
  {
    method: 'post',
    path: '/api/integrations/:id/copy',
    tag: TAG,
    summary: 'Copy an integration, without its authentications',
    responses: { 201: 'The copy.', 404: 'No such integration (`not_found`).' },
  },
  {
    method: 'get',
    path: '/api/integration-calls',
    tag: TAG,
    summary: 'The call log, newest lifecycle event first',
    query: callQuery,
    responses: { 200: '`{calls: [...]}`', 400: 'A query parameter is not valid (`invalid_request`).' },
  },
  {
    method: 'get',
    path: '/api/integration-calls/:id',
    tag: TAG,
    summary: 'One call with every attempt: the request as sent (secrets masked), status, timing and an excerpt of the answer',
    responses: { 200: 'The call.', 404: 'No such call (`not_found`).' },
  },
  {
    method: 'post',
    path: '/api/integration-calls/:id/retry',
    tag: TAG,
    summary: 'Make a failed call again, with a fresh retry schedule',
    responses: {
      202: 'The call, pending again.',
      404: 'No such call (`not_found`).',
      409: 'The call has not failed, or its integration was removed (`conflict`).',
    },
  },
  {
    method: 'get',
    path: '/api/conversations/:conversationIdentifier/integrations',
    tag: TAG,
    summary: 'A conversation’s lifecycle events and what integrations set and saved on it',
    responses: { 200: '`{conversationIdentifier, lifecycleEvents, ...values}`' },
  },
];

export interface IntegrationRoutesDeps {
  integrations: IntegrationStore;
  calls: IntegrationCalls;
  values: ConversationValues;
  allowHttpLoopback: boolean;
}

/**
 * `/api/integrations` (CRUD and copy; secrets write-only), `/api/integration-calls` (the call log and
 * manual retry) and `/api/conversations/{id}/integrations` (lifecycle events and what integrations set).
 */
export function integrationRoutes(deps: IntegrationRoutesDeps): Router {
  const router = express.Router();
  const parse = (body: unknown): IntegrationInput => {
    const input = parseInput(integrationInput, body);
    const problem = urlProblem(input.url, deps.allowHttpLoopback);
    if (problem) throw managementError('invalid_request', `url: ${problem}`);
    return input;
  };
  const storeRule = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof IntegrationInputError) throw managementError('invalid_request', err.message);
      throw err;
    }
  };
  const missing = (id: string) => managementError('not_found', `No integration "${id}".`);

  router.post('/integrations', async (req, res) => {
    const input = parse(req.body);
    res.status(201).json(await storeRule(() => deps.integrations.create(input)));
  });
  router.get('/integrations', async (_req, res) => {
    res.json({ integrations: await deps.integrations.list() });
  });
  router.get('/integrations/:id', async (req, res) => {
    const found = await deps.integrations.get(req.params.id);
    if (!found) throw missing(req.params.id);
    res.json(found);
  });
  router.put('/integrations/:id', async (req, res) => {
    const input = parse(req.body);
    const updated = await storeRule(() => deps.integrations.update(req.params.id, input));
    if (!updated) throw missing(req.params.id);
    res.json(updated);
  });
  router.delete('/integrations/:id', async (req, res) => {
    if (!(await deps.integrations.delete(req.params.id))) throw missing(req.params.id);
    res.status(204).end();
  });
  router.post('/integrations/:id/copy', async (req, res) => {
    const copy = await deps.integrations.copy(req.params.id);
    if (!copy) throw missing(req.params.id);
    res.status(201).json(copy);
  });

  router.get('/integration-calls', async (req, res) => {
    res.json({ calls: await deps.calls.list(parseInput(callQuery, req.query)) });
  });
  router.get('/integration-calls/:id', async (req, res) => {
    const call = await deps.calls.get(req.params.id);
    if (!call) throw managementError('not_found', `No integration call "${req.params.id}".`);
    res.json(call);
  });
  router.post('/integration-calls/:id/retry', async (req, res) => {
    const call = await deps.calls.get(req.params.id);
    if (!call) throw managementError('not_found', `No integration call "${req.params.id}".`);
    if (!(await deps.calls.retry(req.params.id))) {
      throw managementError(
        'conflict',
        `Call "${req.params.id}" is ${call.status}; only a failed call of an existing integration can be retried.`,
      );
    }
    res.status(202).json(await deps.calls.get(req.params.id));
  });

  router.get('/conversations/:conversationIdentifier/integrations', async (req, res) => {
    const id = req.params.conversationIdentifier;
    const [lifecycleEvents, values] = await Promise.all([deps.calls.lifecycleEvents(id), deps.values.read(id)]);
    res.json({ conversationIdentifier: id, lifecycleEvents, ...values });
  });
  return router;
}
