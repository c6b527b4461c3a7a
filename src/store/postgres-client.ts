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
 */
export class PreparingClient extends pg.Client {
  private readonly names = new Map<string, string>();

  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      let name = this.names.get(config);
      if (name === undefined && this.names.size < MAX_NAMED) {
        name = `byoc_${this.names.size}`;
        this.names.set(config, name);
      }
      if (name !== undefined) return clientQuery.call(this, { name, text: config, values }, callback) as never;
    }
    return clientQuery.call(this, config, values, callback) as never;
  }
}
