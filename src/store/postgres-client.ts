import pg from 'pg';

/** Statements each connection keeps prepared, in the order first run; later ones are parsed each time. */
const MAX_NAMED = 200;

/** pg's own query(), whose overloads this class passes any of on unchanged. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(client)
const clientQuery = pg.Client.prototype.query as (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * A pg client that runs each parameterized statement as a named prepared statement of its connection:
 * PostgreSQL parses and plans it on the first run only, instead of on every run as it does an unnamed
 * one. The bridge's statements are a few hundred texts that repeat (Kysely compiles each query shape to
 * the same text), so naming them by their text costs a map lookup.
 *
 * A migration run meanwhile by another replica (a rolling upgrade adding a column) changes what a
 * prepared `select *` answers, and PostgreSQL then refuses to run it ("cached plan must not change result
 * type"): that run fails, and the statement is prepared again under a new name the next time.
 */
export class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>();
  private named = 0;

  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      let name = this.names.get(config);
      if (name === undefined && this.named < MAX_NAMED) {
        name = `byoc_${this.named++}`;
        this.names.set(config, name);
      }
      if (name !== undefined) {
        const result = clientQuery.call(this, { name, text: config, values }, callback);
        if (result instanceof Promise) result.catch((err: unknown) => this.forgetIfStale(config, err));
        return result as never;
      }
    }
    return clientQuery.call(this, config, values, callback) as never;
  }

  private forgetIfStale(text: string, err: unknown) {
    if ((err as { code?: string }).code === '0A000' && /cached plan must not change result type/.test(String(err))) {
      this.names.delete(text);
    }
  }
}
