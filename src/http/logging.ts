import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** Structured JSON logs; human-readable when stdout is a terminal (or LOG_FORMAT=pretty). */
export function createLogger(options: { level: string; format: 'auto' | 'json' | 'pretty' }): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY);
  return pino({
    level: options.level,
    base: undefined,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

/** One log line per request, carrying the client's RequestId (or a generated id when it sent none). */
export function requestLogger(logger: Logger, name: string) {
  return pinoHttp({
    logger: logger.child({ server: name }),
    genReqId: (req: IncomingMessage) => {
      const header = req.headers['requestid'];
      return (Array.isArray(header) ? header[0] : header) || randomUUID();
    },
    // The refusal's Interaction API code goes on the request's one line rather than a line of its own.
    customProps: (_req: IncomingMessage, res: ServerResponse) => {
      const refusal = (res as ServerResponse & { locals?: { refusal?: unknown } }).locals?.refusal;
      return refusal ? { refusal } : {};
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ requestId: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${req.url} ${res.statusCode}`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${req.url} ${res.statusCode}`,
  });
}
