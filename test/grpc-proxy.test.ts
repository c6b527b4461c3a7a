import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exemptLoopbackFromGrpcProxy } from '../src/outbound/grpc-proxy.ts';

describe('gRPC proxy exemption for loopback', () => {
  test('without a proxy in the environment nothing changes', () => {
    const env: NodeJS.ProcessEnv = { no_proxy: 'example.com' };
    exemptLoopbackFromGrpcProxy(env);
    assert.deepEqual(env, { no_proxy: 'example.com' });
  });

  test('with a proxy, loopback is added to no_grpc_proxy and no_proxy entries are kept', () => {
    const env: NodeJS.ProcessEnv = { https_proxy: 'http://proxy:3128', no_proxy: 'example.com, localhost' };
    exemptLoopbackFromGrpcProxy(env);
    assert.equal(env.no_grpc_proxy, 'example.com,localhost,127.0.0.1,::1');
    assert.equal(env.no_proxy, 'example.com, localhost', 'HTTP clients keep their own list');
  });

  test('an existing no_grpc_proxy list is extended, not replaced', () => {
    const env: NodeJS.ProcessEnv = { grpc_proxy: 'http://proxy:3128', no_grpc_proxy: 'internal.example', no_proxy: 'ignored.example' };
    exemptLoopbackFromGrpcProxy(env);
    assert.equal(env.no_grpc_proxy, 'internal.example,localhost,127.0.0.1,::1');
  });
});
