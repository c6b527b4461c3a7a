/**
 * Which access-token scopes open which Pub/Sub RPC of the local org. Salesforce's Pub/Sub API takes a
 * token with `api` (or `full`) for reading and publishing alike; the Interaction API's own scope
 * (`interaction_api`) and `refresh_token` open nothing here, so a partner's token cannot read the
 * outbound topic nor publish (forge) agent messages onto it. Reading and publishing are listed apart so
 * that a deployment can narrow one without the other in this one place.
 */
export const PUBSUB_RPC_SCOPES = {
  GetTopic: ['api', 'full'],
  GetSchema: ['api', 'full'],
  Subscribe: ['api', 'full'],
  Publish: ['api', 'full'],
  PublishStream: ['api', 'full'],
} as const satisfies Record<string, readonly string[]>;

export type PubSubRpc = keyof typeof PUBSUB_RPC_SCOPES;

/** Whether a token's space-separated `scope` opens `rpc`. */
export function scopeAllows(scope: string, rpc: PubSubRpc): boolean {
  const granted = new Set(scope.split(/\s+/).filter(Boolean));
  return PUBSUB_RPC_SCOPES[rpc].some((s) => granted.has(s));
}
