/**
 * A router replica that dies while it holds a call: the liveness watch tells a gone replica (no responders)
 * from a silent one, and ingress answers the call in flight with a JSON-RPC error soon after the death,
 * without re-sending it to another replica; the session goes on with the next call. The NATS is spawned
 * for this file so no other project's router answers these calls.
 */
import { AnonymousPrincipal } from '../src/request-principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Bus, decodeJson, encodeJson } from '@meshgate/bus';
import {
  ErrorCodes,
  InvalidSubjectToken,
  QueueGroups,
  RouterCall,
  Subjects,
  type RouterReply,
  type SessionRecord,
} from '@meshgate/contracts';
import { createLogger } from '@meshgate/config';
import { createRouterClient } from '../src/router-client';
import { createRouterLiveness, type RouterLiveness } from '../src/router-liveness';
import { newSessionId, type SessionStore } from '../src/session-store';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { openSession, post, testConfig, toolCall } from './harness';

const PROBE_MS = 100;
const logger = createLogger('ingress-test', 'silent', 'liveness');

let nats: SpawnedNats;
let bus: Bus;
let liveness: RouterLiveness;

/**
 * A router replica that opens sessions on the queue subject and then holds every call on its own subject
 * without answering, until its connection is closed (as by a kill: nothing is answered, nothing drains).
 */
async function startDoomedRouter(instance: string): Promise<{ nc: NatsConnection; held: RouterCall[] }> {
  const nc = await connect({ servers: nats.url, name: instance });
  const held: RouterCall[] = [];
  nc.subscribe(Subjects.routerCall, {
    queue: QueueGroups.router,
    callback: (_err, msg) => {
      const call = decodeJson(RouterCall, msg.data, 'call');
      const result = { protocolVersion: call.session.protocolVersion, capabilities: { tools: {} } };
      const reply: RouterReply = {
        v: 1,
        router: instance,
        message: { jsonrpc: '2.0', id: call.message.id, result },
      };
      msg.respond(encodeJson(reply));
    },
  });
  nc.subscribe(Subjects.routerInstanceCall(instance), {
    // Liveness probes carry no RouterCall; they are held unanswered like everything else.
    callback: (_err, msg) => {
      const call = RouterCall.safeParse(
        msg.data.length > 0 ? JSON.parse(new TextDecoder().decode(msg.data)) : null,
      );
      if (call.success) held.push(call.data);
    },
  });
  await nc.flush();
  return { nc, held };
}

const waitFor = async (check: () => boolean, timeoutMs = 5000) => {
  for (const end = Date.now() + timeoutMs; !check();) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  nats = await spawnNats();
  bus = await Bus.connect({ url: nats.url, name: 'liveness-test' });
  liveness = createRouterLiveness(bus, { intervalMs: PROBE_MS, logger });
});

afterAll(async () => {
  liveness?.stop();
  await bus?.close();
  await nats?.stop();
});

describe('router liveness watch', () => {
  it('calls back once for a replica nobody subscribes to', async () => {
    let gone = 0;
    liveness.watch('router-nobody', () => (gone += 1));
    await waitFor(() => gone === 1);
    await new Promise((r) => setTimeout(r, PROBE_MS * 3));
    expect(gone).toBe(1);
  });

  it('never calls back for a silent replica, or after unwatch; calls back when the replica dies', async () => {
    const silent = await startDoomedRouter('router-silent');
    let gone = 0;
    const unwatch = liveness.watch('router-silent', () => (gone += 1));
    let unwatchedGone = 0;
    liveness.watch('router-nobody-2', () => (unwatchedGone += 1))();
    await new Promise((r) => setTimeout(r, PROBE_MS * 5));
    expect([gone, unwatchedGone]).toEqual([0, 0]);
    await silent.nc.close();
    await waitFor(() => gone === 1);
    unwatch();
  });
});

describe('router client', () => {
  it('leaves no watch behind when the pinned replica name cannot form a subject', async () => {
    let watching = 0;
    const counting: RouterLiveness = {
      watch: () => {
        watching += 1;
        return () => (watching -= 1);
      },
      stop: () => undefined,
    };
    const sessions = { update: async () => true } as unknown as SessionStore;
    const client = createRouterClient(bus, sessions, counting, logger);
    const session = {
      id: newSessionId(),
      protocolVersion: '2025-11-25',
      clientCapabilities: {},
      target: { kind: 'federated' as const },
      principal: AnonymousPrincipal,
    };
    const record: SessionRecord = { v: 1, session, router: 'bad.router', createdAt: Date.now() };
    const message = { jsonrpc: '2.0' as const, id: 1, method: 'tools/list' };
    await expect(
      client.call(record, { v: 1, session, message }, { deadline: Date.now() + 1000, traceparent: '' }),
    ).rejects.toBeInstanceOf(InvalidSubjectToken);
    expect(watching).toBe(0);
  });
});

describe('ingress with a router replica that dies holding a call', () => {
  let ingress: IngressHandle;
  let survivor: FakeRouter | undefined;

  beforeAll(async () => {
    ingress = await start(testConfig(nats.url, { MESHGATE_ROUTER_PROBE_MS: String(PROBE_MS) }));
  });

  afterAll(async () => {
    await ingress?.stop();
    await survivor?.stop();
  });

  it('answers the call in flight with -32001 without re-sending it, and the session goes on', async () => {
    const doomed = await startDoomedRouter('router-doomed');
    const s = await openSession(ingress.url);
    survivor = await startFakeRouter(nats.url, 'router-survivor');
    const pending = post(s, toolCall(7, 'echo', { n: 7 }));
    await waitFor(() => doomed.held.some((c) => c.message.id === 7));
    const killedAt = Date.now();
    await doomed.nc.close();
    const res = await pending;
    expect(Date.now() - killedAt).toBeLessThan(PROBE_MS * 20);
    expect(await res.json()).toMatchObject({
      id: 7,
      error: { code: ErrorCodes.UpstreamUnavailable, message: expect.stringMatching(/router replica/) },
    });
    expect(survivor.calls.some((c) => c.session.id === s.id)).toBe(false);
    const next = await post(s, toolCall(8, 'echo', { n: 8 }));
    expect(await next.json()).toMatchObject({
      id: 8,
      result: { structuredContent: { router: 'router-survivor' } },
    });
  });
});
