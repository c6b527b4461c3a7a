import pg from 'pg';

/**
 * A named lock at most one process holds among those sharing the store. On PostgreSQL it is a session
 * advisory lock on a connection of its own, keyed by the schema and the name (advisory locks are
 * database-wide, and bridges in other schemas of the database are other systems); PostgreSQL frees it
 * when that connection ends, so a killed holder's lock is free as soon as its socket closes. On SQLite
 * the store is one process's file, so the lock is always held.
 */
export interface ExclusiveLock {
  /** True when this process holds the lock now (taking it if free). Throws when the database is unreachable. */
  tryAcquire(): Promise<boolean>;
  /** Throws when the lock's connection is gone, i.e. a lock this process held may now be another's. */
  check(): Promise<void>;
  /** Frees the lock (if held) and closes its connection. */
  release(): Promise<void>;
}

export function exclusiveLock(options: { databaseUrl?: string; name: string }): ExclusiveLock {
  if (!options.databaseUrl)
    return { tryAcquire: () => Promise.resolve(true), check: () => Promise.resolve(), release: () => Promise.resolve() };
  return new AdvisoryLock(options.databaseUrl, options.name);
}

const KEY = 'hashtext(current_schema()), hashtext($1)';

class AdvisoryLock implements ExclusiveLock {
  private client: pg.Client | undefined;
  private broken: Error | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly name: string,
  ) {}

  async tryAcquire(): Promise<boolean> {
    const client = await this.connection();
    const { rows } = await client.query<{ held: boolean }>(`select pg_try_advisory_lock(${KEY}) as held`, [this.name]);
    return rows[0]?.held === true;
  }

  async check(): Promise<void> {
    if (this.broken || !this.client) throw this.broken ?? new Error('the lock has no connection');
    await this.client.query('select 1');
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // Ending the session frees its advisory locks; the unlock first makes that explicit and prompt.
    await client.query(`select pg_advisory_unlock_all()`).catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    await this.release();
    this.broken = undefined;
    const client = new pg.Client({ connectionString: this.databaseUrl, keepAlive: true });
    // Only this connection's own end counts: a released one's may arrive after its successor connected.
    client.on('error', (err) => {
      if (this.client === client) this.broken = err;
    });
    client.on('end', () => {
      if (this.client === client) this.broken ??= new Error('the lock connection ended');
    });
    await client.connect();
    this.client = client;
    return client;
  }
}
