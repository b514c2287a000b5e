/**
 * Test harness: a router replica started in-process against the test NATS, with a registry bucket of its
 * own (so tests never see each other's servers), a bus to drive it like ingress does, and helpers to put
 * definitions, make calls and collect the messages the router publishes for agents.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kvm, type KV } from '@nats-io/kv';
import { Bus } from '@meshgate/bus';
import {
  RouterReply,
  Subjects,
  ToAgent,
  type JsonRpcId,
  type ServerDefinitionInput,
  type SessionInfo,
  type Target,
} from '@meshgate/contracts';
import { start, type RouterHandle } from '../src/index';
import type { RouterConfig } from '../src/config';

export const routerDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/stdio-fixture.ts', import.meta.url));

/** A stdio definition that runs the fixture server (variant a or b). */
export function stdioFixture(
  name: string,
  variant = 'a',
  extra: Partial<ServerDefinitionInput> = {},
): ServerDefinitionInput {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', fixture, variant],
    cwd: routerDir,
    ...extra,
  } as ServerDefinitionInput;
}

/** A unique, valid server name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A new session for a target. */
export function newSession(
  target: Target,
  clientCapabilities: Record<string, unknown> = { sampling: {}, roots: {} },
): SessionInfo {
  return {
    id: `s_${randomBytes(12).toString('hex')}`,
    protocolVersion: '2025-11-25',
    clientCapabilities,
    target,
    principal: TestPrincipal,
  };
}

/** The principal of the harness's sessions: an agent of tenant `default`. */
export const TestPrincipal: SessionInfo['principal'] = {
  tenant: 'default',
  id: 'router-test',
  kind: 'agent',
  roles: ['agent'],
  groups: [],
};

export interface Harness {
  router: RouterHandle;
  bus: Bus;
  kv: KV;
  /** Puts a definition and waits until the router serves it. */
  put(def: ServerDefinitionInput): Promise<void>;
  remove(name: string): Promise<void>;
  call(
    session: SessionInfo,
    method: string,
    params?: Record<string, unknown>,
    opts?: { id?: JsonRpcId; stream?: string; timeoutMs?: number },
  ): Promise<RouterReply>;
  /** Collects the ToAgent messages published on `subject`. */
  collect(subject: string): { messages: Record<string, unknown>[]; stop(): void };
  close(): Promise<void>;
}

let nextId = 1;

export async function startHarness(overrides: Partial<RouterConfig> = {}): Promise<Harness> {
  const natsUrl = overrides.natsUrl ?? process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const bucket = `mg_registry_test_${randomBytes(4).toString('hex')}`;
  const bus = await Bus.connect({ url: natsUrl, name: 'router-test' });
  const kv = await new Kvm(bus.nc).create(bucket, { history: 1 });
  const router = await start({
    natsUrl,
    logLevel: process.env['LOG_LEVEL'] ?? 'silent',
    instanceId: undefined,
    separator: '__',
    listDeadlineMs: 3000,
    restartBackoffMaxMs: 2000,
    sessionIdleMs: 86_400_000,
    registryBucket: bucket,
    audit: { enabled: false, mode: 'fail-open', spoolDir: '', spoolMaxBytes: 0, lingerMs: 10 },
    policy: { mode: 'off', staleMs: 0, bucket: 'mg_policies', limitsBucket: 'mg_limits' },
    ...overrides,
  });
  const subscriptions: { stop(): void }[] = [];
  const call: Harness['call'] = (session, method, params, opts = {}) => {
    const message = { jsonrpc: '2.0', id: opts.id ?? nextId++, method, ...(params ? { params } : {}) };
    const payload = { v: 1, session, message, ...(opts.stream ? { stream: opts.stream } : {}) };
    return bus.request(Subjects.routerCall, payload, RouterReply, { timeoutMs: opts.timeoutMs ?? 15_000 });
  };
  return {
    router,
    bus,
    kv,
    async put(def) {
      const record = JSON.stringify({
        v: 1,
        definition: def,
        revision: 1,
        updatedAt: new Date().toISOString(),
      });
      await kv.put(def.name, record);
      const probe = newSession({ kind: 'federated' });
      await eventually(async () => {
        const reply = await call(probe, 'initialize', {});
        return JSON.stringify(reply.message).includes(`- ${def.name}`);
      });
    },
    async remove(name) {
      await kv.delete(name);
    },
    call,
    collect(subject) {
      const messages: Record<string, unknown>[] = [];
      const sub = bus.nc.subscribe(subject, {
        callback: (_err, msg) => {
          messages.push(ToAgent.parse(msg.json()).message);
        },
      });
      const handle = { messages, stop: () => sub.unsubscribe() };
      subscriptions.push(handle);
      return handle;
    },
    async close() {
      for (const s of subscriptions) s.stop();
      await router.stop();
      await new Kvm(bus.nc).open(bucket).then((b) => b.destroy());
      await bus.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, at most `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The result of a reply, failing the test with the error when there is one. */
export function resultOf(reply: RouterReply): Record<string, unknown> {
  const m = reply.message as { result?: Record<string, unknown>; error?: unknown };
  if (!m.result) throw new Error(`expected a result, got ${JSON.stringify(m.error)}`);
  return m.result;
}

/** The error of a reply. */
export function errorOf(reply: RouterReply): { code: number; message: string } {
  const m = reply.message as { error?: { code: number; message: string } };
  if (!m.error) throw new Error(`expected an error, got ${JSON.stringify(reply.message)}`);
  return m.error;
}
