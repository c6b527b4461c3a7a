import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccessTokens } from '../../auth/access-tokens.ts';
import type { Db } from '../../store/database.ts';
import type { CustomEventFieldNames } from '../../contract/outbound-event.ts';
import { customEventSchema } from '../pubsub/custom-event-schema.ts';
import { apiVersions, parseVersionSegment } from './api-versions.ts';
import { loadOrgRecords, ORG_OBJECTS } from './org-records.ts';
import { runQuery } from './query-runner.ts';
import { RestError } from './rest-error.ts';

export interface OrgRestDeps {
  db: Db;
  tokens: AccessTokens;
  orgId: string;
  topicName: string;
  fields: CustomEventFieldNames;
}

/** The scope a token needs for the REST API, as on a real org (the JWT bearer app and SOAP sessions carry it). */
const REST_SCOPES = ['api', 'full'];

const route =
  (handler: (req: Request, res: Response) => Promise<void> | void) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve(handler(req, res)).catch(next);
  };

/**
 * The slice of Salesforce's REST API that channel integrations call on start, answered from the local
 * org's own state: the version list, SOQL queries on the channel objects, and the describe of the outbound
 * platform event. Refusals use the REST API's `[{message, errorCode}]` shape.
 */
export function orgRestRouter(deps: OrgRestDeps): Router {
  const router = express.Router();
  const platformEvent = deps.topicName.replace(/^\/event\//, '');

  // Like a real org, the version list needs no session: clients read it to choose a version before logging in.
  router.get(['/services/data', '/services/data/'], (_req, res) => {
    res.json(apiVersions());
  });

  const api = express.Router({ mergeParams: true });
  api.use((req, res, next) => {
    const token = /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    const admit = async () => {
      const grant = token ? await deps.tokens.resolve(token) : undefined;
      if (!grant || grant.orgId !== deps.orgId) throw new RestError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      if (!grant.scope.split(/\s+/).some((s) => REST_SCOPES.includes(s))) {
        throw new RestError(403, 'INSUFFICIENT_ACCESS', 'The access token lacks the api scope the REST API needs.');
      }
      const version = parseVersionSegment(String(req.params.version));
      if (version === undefined) throw new RestError(404, 'NOT_FOUND', 'The requested resource does not exist');
      res.locals.apiVersion = version;
    };
    admit().then(() => next(), next);
  });

  api.get('/', (_req, res) => {
    const base = `/services/data/v${res.locals.apiVersion as number}.0`;
    res.json({ query: `${base}/query`, sobjects: `${base}/sobjects` });
  });

  api.get(
    ['/query', '/query/'],
    route(async (req, res) => {
      const q = req.query.q;
      if (typeof q !== 'string' || q.trim() === '') {
        throw new RestError(400, 'MALFORMED_QUERY', 'A SOQL query is required in the q parameter.');
      }
      const records = await loadOrgRecords(deps.db, { orgId: deps.orgId, topicName: deps.topicName, fields: deps.fields });
      res.json(runQuery(q, ORG_OBJECTS, records, res.locals.apiVersion as number));
    }),
  );

  api.get('/sobjects/:name/describe', (req, res) => {
    if (req.params.name.toLowerCase() !== platformEvent.toLowerCase()) {
      throw new RestError(404, 'NOT_FOUND', `The local org describes only its outbound platform event ${platformEvent}.`);
    }
    const schema = customEventSchema(deps.topicName, deps.fields);
    res.json({
      name: platformEvent,
      label: platformEvent.replace(/__e$/, '').replace(/_/g, ' '),
      custom: true,
      fields: [
        { name: 'ReplayId', type: 'string', label: 'Replay ID', custom: false },
        ...schema.fields.map((f) => ({
          name: f.name,
          type: f.name === 'CreatedDate' ? 'datetime' : f.name === 'CreatedById' ? 'reference' : 'textarea',
          label: f.name.replace(/__c$/, '').replace(/_/g, ' '),
          custom: f.name.endsWith('__c'),
        })),
      ],
    });
  });

  api.use(() => {
    throw new RestError(404, 'NOT_FOUND', 'The requested resource does not exist');
  });

  router.use('/services/data/:version', api);
  router.use('/services/data', ((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof RestError)) {
      next(err);
      return;
    }
    res.status(err.status).json(err.body());
  }) as express.ErrorRequestHandler);
  return router;
}
