import { timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { XMLParser } from 'fast-xml-parser';
import type { AccessTokens } from '../../auth/access-tokens.ts';
import type { Db } from '../../store/database.ts';
import { parseVersionSegment } from './api-versions.ts';

export interface SoapLoginDeps {
  db: Db;
  tokens: AccessTokens;
  orgId: string;
  publicBaseUrl: string;
  /** LOCAL_PASSWORD: unset turns password login off (every login is INVALID_LOGIN, saying how to turn it on). */
  password?: string;
  /** Cap on the envelope's size: a login is a few hundred bytes. */
  maxBodyBytes: number;
}

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const xml = (value: string) => value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A SOAP fault as the partner API sends it. Salesforce answers faults with HTTP 500 as SOAP 1.1 prescribes;
 * the local org answers 401 (bad credentials) or 400 (an envelope it cannot read) instead, because no
 * input may earn a 5xx here — SOAP clients (jsforce, simple-salesforce) read the fault from any non-200.
 */
function fault(code: string, message: string) {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:sf="urn:fault.partner.soap.sforce.com">` +
    `<soapenv:Body><soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${xml(`${code}: ${message}`)}</faultstring>` +
    `<detail><sf:LoginFault><sf:exceptionCode>${code}</sf:exceptionCode><sf:exceptionMessage>${xml(message)}</sf:exceptionMessage></sf:LoginFault></detail>` +
    `</soapenv:Fault></soapenv:Body></soapenv:Envelope>`
  );
}

/** Finds a child element by local name, whatever namespace prefix the client chose. */
function child(node: unknown, localName: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key === localName || key.endsWith(`:${localName}`)) return value;
  }
  return undefined;
}

const text = (node: unknown): string | undefined => (typeof node === 'string' ? node : typeof node === 'number' ? String(node) : undefined);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `POST /services/Soap/u/NN.0`: the partner API's `login(username, password)`, which channel integrations
 * built on jsforce call at start. The integration user logs in with LOCAL_PASSWORD; the session id is an
 * access token of the local org, valid on the REST endpoints and the Pub/Sub API like a JWT-bearer token.
 */
export function soapLoginRouter(deps: SoapLoginDeps): Router {
  const router = express.Router();
  const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true });

  router.post('/services/Soap/u/:version', express.text({ type: () => true, limit: deps.maxBodyBytes }), async (req, res) => {
    res.type('text/xml; charset=utf-8');
    const version = parseVersionSegment(`v${req.params.version}`);
    if (version === undefined) {
      res
        .status(404)
        .send(
          fault('UNSUPPORTED_API_VERSION', `The local org serves the partner API for versions 50.0 to 66.0, not ${req.params.version}.`),
        );
      return;
    }
    let envelope: unknown;
    try {
      envelope = parser.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      envelope = undefined;
    }
    const login = child(child(child(envelope, 'Envelope'), 'Body'), 'login');
    const username = text(child(login, 'username'));
    const password = text(child(login, 'password'));
    if (login === undefined || username === undefined || password === undefined) {
      res
        .status(400)
        .send(
          fault(
            'INVALID_OPERATION',
            'The local org answers only the login call: a SOAP envelope whose body holds login with username and password.',
          ),
        );
      return;
    }
    if (deps.password === undefined) {
      res
        .status(401)
        .send(
          fault('INVALID_LOGIN', 'Password login is off in the local org. Set LOCAL_PASSWORD to turn it on, or use the JWT bearer flow.'),
        );
      return;
    }
    const user = await deps.db
      .selectFrom('users')
      .select(['user_id', 'username', 'display_name'])
      .where('org_id', '=', deps.orgId)
      .where('username', '=', username)
      .where('is_agent', '=', 0)
      .executeTakeFirst();
    if (!user || !sameSecret(password, deps.password)) {
      req.log.warn({ username }, 'SOAP login refused');
      res.status(401).send(fault('INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.'));
      return;
    }
    const issued = await deps.tokens.issue({ orgId: deps.orgId, userId: user.user_id, consumerKey: 'soap-login', scope: 'api' });
    const serverUrl = `${deps.publicBaseUrl}/services/Soap/u/${version}.0/${deps.orgId}`;
    res.send(
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns="urn:partner.soap.sforce.com">` +
        `<soapenv:Body><loginResponse><result>` +
        `<metadataServerUrl>${xml(`${deps.publicBaseUrl}/services/Soap/m/${version}.0/${deps.orgId}`)}</metadataServerUrl>` +
        `<passwordExpired>false</passwordExpired><sandbox>false</sandbox>` +
        `<serverUrl>${xml(serverUrl)}</serverUrl><sessionId>${xml(issued.token)}</sessionId><userId>${user.user_id}</userId>` +
        `<userInfo><organizationId>${deps.orgId}</organizationId><organizationName>Local BYOC org</organizationName>` +
        `<sessionSecondsValid>${Math.round((issued.expiresAt - issued.issuedAt) / 1000)}</sessionSecondsValid>` +
        `<userFullName>${xml(user.display_name)}</userFullName><userId>${user.user_id}</userId><userName>${xml(user.username)}</userName>` +
        `</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>`,
    );
  });
  return router;
}
