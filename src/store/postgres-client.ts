import pg from 'pg';

/** Statements each connection keeps prepared: the most recently run; the least recent is let go for a new one. */
export const MAX_NAMED = 200;

/** pg's own query(), whose overloads this class passes any of on unchanged. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(client)
const clientQuery = pg.Client.prototype.query as (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * A pg client that runs each parameterized statement as a named prepared statement of its connection:
 * PostgreSQL parses and plans it on the first run only, instead of on every run as it does an unnamed
 * one. The bridge's statements are a few hundred texts that repeat (Kysely compiles each query shape to
 * the same text), so naming them by their text costs a map lookup.
 *
 * Texts that vary (an `in` list or a multi-row insert of another length) are statements too: the least
 * recently run one is deallocated when a new text needs a name beyond MAX_NAMED, so the ones that repeat
 * keep theirs however many others have come and gone.
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
      if (name === undefined) {
        if (this.names.size >= MAX_NAMED) this.letGoOfLeastRecent();
        name = `byoc_${this.named++}`;
      } else {
        // A Map keeps insertion order: moved to the end, the first entry is the least recently run.
        this.names.delete(config);
      }
      this.names.set(config, name);
      const result = clientQuery.call(this, { name, text: config, values }, callback);
      if (result instanceof Promise) result.catch((err: unknown) => this.forgetIfStale(config, err));
      return result as never;
    }
    return clientQuery.call(this, config, values, callback) as never;
  }

  /**
   * Deallocates the least recently run statement. Its name is never given again; queries queued before
   * still use it, and run before the deallocation, which is queued behind them. Only once that has run
   * does pg forget the statement was parsed (it would otherwise parse it again under a name in use).
   */
  private letGoOfLeastRecent() {
    const [text, name] = this.names.entries().next().value!;
    this.names.delete(text);
    const parsed = (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
    (clientQuery.call(this, `deallocate ${name}`) as Promise<unknown>).then(
      () => Reflect.deleteProperty(parsed, name),
      // In a failed transaction: the statement stays on the server until the connection ends, unused.
      () => {},
    );
  }

  private forgetIfStale(text: string, err: unknown) {
    if ((err as { code?: string }).code === '0A000' && /cached plan must not change result type/.test(String(err))) {
      this.names.delete(text);
    }
  }
}
