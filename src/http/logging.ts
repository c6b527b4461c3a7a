import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import pino, { type Logger } from 'pino';

declare module 'node:http' {
  interface IncomingMessage {
    /** The client's RequestId header, or an id generated for a request that sent none. */
    id: string;
    /** Logs with this request's fields (`req`: requestId, method, url) bound. */
    log: Logger;
  }
}

/** Structured JSON logs; human-readable when stdout is a terminal (or LOG_FORMAT=pretty). */
export function createLogger(options: { level: string; format: 'auto' | 'json' | 'pretty' }): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY);
  return pino({
    level: options.level,
    base: undefined,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

/** What the request's line needs once it ends, kept on the response. */
const LINE = Symbol('request log line');
interface PendingLine {
  log: Logger;
  started: number;
  req: Request;
}
type LoggedResponse = Response & { [LINE]?: PendingLine };

/**
 * One log line per request, carrying the client's RequestId (or a generated id when it sent none): the
 * line pino-http wrote (`req`, `refusal`, `res`, `err`, `responseTime`, "METHOD url status"), without
 * its per-request serializers, second child logger and closures, and with nothing built when the level is off.
 */
export function requestLogger(logger: Logger, name: string): RequestHandler {
  const server = logger.child({ server: name });
  return (req, res: LoggedResponse, next) => {
    const header = req.headers['requestid'];
    const requestId = (Array.isArray(header) ? header[0] : header) || randomUUID();
    req.id = requestId;
    const log = server.child({ req: { requestId, method: req.method, url: req.originalUrl || req.url } });
    req.log = log;
    res[LINE] = { log, started: Date.now(), req };
    // The first of these ends the request's line: 'close' alone when the client went away before the answer.
    res.on('close', writeLine);
    res.on('finish', writeLine);
    res.on('error', writeLine);
    next();
  };
}

/** A listener of the response (`this`): one function for every request, so none is created per request. */
function writeLine(this: LoggedResponse, err?: Error): void {
  this.off('close', writeLine);
  this.off('finish', writeLine);
  this.off('error', writeLine);
  const pending = this[LINE];
  if (!pending) return;
  this[LINE] = undefined;
  const { log, started, req } = pending;
  const failure = err || this.statusCode >= 500;
  const level = failure ? 'error' : this.statusCode >= 400 ? 'warn' : 'info';
  if (!log.isLevelEnabled(level)) return;
  // The refusal's Interaction API code goes on the request's one line rather than a line of its own.
  const refusal: unknown = this.locals.refusal;
  const line = refusal ? log.child({ refusal }) : log;
  const fields = failure
    ? {
        res: { statusCode: this.statusCode },
        err: err || new Error(`failed with status code ${this.statusCode}`),
        responseTime: Date.now() - started,
      }
    : { res: { statusCode: this.statusCode }, responseTime: Date.now() - started };
  line[level](fields, `${req.method} ${req.url} ${this.statusCode}`);
}
