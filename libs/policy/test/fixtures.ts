/**
 * Test fixtures of the policy engine: decision requests built from a few fields, sets compiled or the
 * test fails, and isolation on the shared test NATS (policy buckets with unique names, destroyed after).
 */
import { randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { DecisionRequest, PolicyContext, PolicyResource, Principal } from '@meshgate/contracts';
import { compilePolicySet, type CompiledPolicySet } from '../src/index';

/** Tuesday 2026-11-24 10:00:00 UTC. */
export const Tuesday10 = Date.parse('2026-11-24T10:00:00.000Z');

/** A request of `bob`, agent of tenant `acme`, to call `fs/read_file`, unless told otherwise. */
export function request(
  over: {
    principal?: Partial<Principal>;
    action?: DecisionRequest['action'];
    resource?: PolicyResource;
    context?: Partial<PolicyContext>;
  } = {},
): DecisionRequest {
  return {
    v: 1,
    principal: { tenant: 'acme', id: 'bob', kind: 'agent', roles: ['agent'], groups: [], ...over.principal },
    action: over.action ?? 'call_tool',
    resource: over.resource ?? { kind: 'tool', server: 'fs', name: 'read_file' },
    context: { time: Tuesday10, ...over.context },
  };
}

/** The compiled set, or a failed test naming the errors. */
export function compiled(name: string, text: string): CompiledPolicySet {
  const result = compilePolicySet(name, text);
  if (!result.ok) throw new Error(`${name} did not compile: ${JSON.stringify(result.errors)}`);
  return result.set;
}

/** A connection to the shared test NATS. */
export function connectNats(name: string): Promise<NatsConnection> {
  return connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', name });
}

const buckets: string[] = [];

/** A policy bucket name no other test uses; destroyed by `destroyBuckets`. */
export function uniqueBucket(): string {
  const bucket = `mg_test_policies_${randomBytes(5).toString('hex')}`;
  buckets.push(bucket);
  return bucket;
}

export async function destroyBuckets(nc: NatsConnection): Promise<void> {
  const kvm = new Kvm(nc);
  for (const b of buckets.splice(0)) await (await kvm.open(b)).destroy().catch(() => false);
}

/** Polls `check` every 10 ms until it holds; fails after `withinMs`. */
export async function within(withinMs: number, what: string, check: () => boolean): Promise<void> {
  const end = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
