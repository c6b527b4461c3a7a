/**
 * gRPC clients honour `grpc_proxy` / `https_proxy` / `http_proxy` from the environment, while Node's
 * fetch does not. On a laptop or CI runner with a proxy set, the bridge's own subscriber to the local
 * org's Pub/Sub server on loopback would then be sent to the proxy and never connect, although every
 * HTTP call works. salesforce-pubsub-api-client takes no channel options, so the exemption goes where
 * grpc-js reads it: `no_grpc_proxy`, which it prefers over `no_proxy` (so both lists are kept).
 * A real org's endpoint still goes through the proxy.
 */
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

export function exemptLoopbackFromGrpcProxy(env: NodeJS.ProcessEnv): void {
  if (!env.grpc_proxy && !env.https_proxy && !env.http_proxy) return;
  const listed = (env.no_grpc_proxy ?? env.no_proxy ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  env.no_grpc_proxy = [...listed, ...LOOPBACK.filter((h) => !listed.includes(h))].join(',');
}
