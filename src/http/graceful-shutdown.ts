import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.ts';

export interface ShutdownPlan {
  logger: Logger;
  readiness: Readiness;
  servers: Server[];
  /** SIGTERM only: how long to keep serving while unready, for the load balancer to take this replica out. */
  delayMs: number;
  /** The bound on the whole stop: then open connections are cut and the process exits with 1. */
  timeoutMs: number;
  /** Runs once the listeners are closed and every request in flight was answered. */
  afterServers: () => Promise<void>;
}

/**
 * On SIGTERM: unready at once, still serving for `delayMs` (each response closing its connection),
 * then the listeners close, requests in flight (uploads too) finish, idle keep-alive connections
 * close, and `afterServers` stops the rest. SIGINT is someone at a terminal: no balancer to wait for.
 */
export function installGracefulShutdown(plan: ShutdownPlan): void {
  const { logger } = plan;
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const bound = setTimeout(() => {
      logger.error({ timeoutMs: plan.timeoutMs }, 'shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS; cutting what is left');
      for (const server of plan.servers) server.closeAllConnections();
      logger.flush();
      process.exit(1);
    }, plan.timeoutMs);
    plan.readiness.drain();
    const delayMs = signal === 'SIGTERM' ? plan.delayMs : 0;
    logger.info({ signal, delayMs }, 'draining: unready, serving until the load balancer has noticed');
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    plan.readiness.closeListeners();
    await Promise.all(plan.servers.map(closeServer));
    logger.info('listeners closed and requests in flight answered');
    try {
      await plan.afterServers();
    } catch (err) {
      logger.error({ err }, 'shutdown step failed');
    }
    clearTimeout(bound);
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void stop(s));
  process.on('SIGINT', (s) => void stop(s));
}

/**
 * Stops accepting and resolves once every connection has ended. A connection busy now ends after its
 * response (which says `Connection: close`); one idle between requests is closed now, and so is one
 * that goes idle later (a response begun before the drain promised keep-alive).
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 250);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
