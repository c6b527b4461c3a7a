import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

/**
 * The `eventbus.v1.PubSub` service definition, loaded from the pubsub_api.proto that
 * salesforce-pubsub-api-client ships, with the loader options the client itself uses (camelCase
 * fields, bytes as Buffer, enums as numbers), so both ends agree on the wire and in code.
 */
export function loadPubSubService(): grpc.ServiceDefinition {
  const clientEntry = fileURLToPath(import.meta.resolve('salesforce-pubsub-api-client'));
  const protoPath = path.join(path.dirname(clientEntry), '..', 'pubsub_api.proto');
  const definition = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, {}));
  // The loader's result is typed by shape, not by name: walk the package path and check it is a service.
  const eventbus = definition.eventbus as grpc.GrpcObject | undefined;
  const v1 = eventbus?.v1 as grpc.GrpcObject | undefined;
  const pubSub = v1?.PubSub;
  if (typeof pubSub !== 'function' || !('service' in pubSub)) throw new Error(`no eventbus.v1.PubSub service in ${protoPath}`);
  return pubSub.service;
}

/** Replay ids travel as 8 bytes, big-endian unsigned. */
export function encodeReplayId(replayId: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(replayId));
  return buf;
}

export function decodeReplayId(buf: Buffer): number {
  if (buf.length !== 8) throw new RangeError(`a replay id is 8 bytes, got ${buf.length}`);
  return Number(buf.readBigUInt64BE());
}
