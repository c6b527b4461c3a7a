// The part of avro-js (the Apache Avro JavaScript implementation) this project uses.
declare module 'avro-js' {
  export interface Type {
    toBuffer(value: unknown): Buffer;
    // What the buffer holds is only known to the caller, who knows the schema.
    fromBuffer(buffer: Buffer): unknown;
    isValid(value: unknown): boolean;
  }
  export function parse(schema: string | object, options?: { registry?: Record<string, unknown> }): Type;
  const avro: { parse: typeof parse };
  export default avro;
}
