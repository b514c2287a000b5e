/**
 * A fake router replica for ingress tests. It serves `RouterCall` on the queue subject and on its own
 * instance subject exactly as ADR 001 and libs/contracts describe, registers as `meshgate-router`, and
 * scripts a few tools: `echo`, `progress` (two related messages first), `gated` (one related message,
 * then waits for the test), `sample` (a server-to-client request answered by the agent), `twice` (an
 * elicitation, then a sampling request, each answered before the next), `pair` (two requests at once),
 * `hang` (waits for the agent's cancellation). Resources: `resources/read` (-32002 for `missing://` URIs),
 * `resources/subscribe` and `resources/unsubscribe`. It records every ToUpstream it receives.
 */
import { Bus, CallerFault, SystemFault, decodeJson, serve, type RunningService } from '@meshgate/bus';
import {
  QueueGroups,
  RouterCall,
  Subjects,
  ToUpstream,
  gatewayRequestId,
  type JsonRpcResponse,
  type RouterReply,
  type ToAgent,
} from '@meshgate/contracts';

export interface FakeRouter {
  instance: string;
  calls: RouterCall[];
  toUpstream: { subject: string; payload: ToUpstream }[];
  /** Publishes a message for the session's standalone GET stream. */
  toAgent(sessionId: string, message: ToAgent['message']): void;
  /** Lets every call waiting in the `gated` tool go on. */
  openGate(): void;
  /** Resolves once `check` holds, polling every 10 ms for at most `timeoutMs`. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const ok = (call: RouterCall, result: Record<string, unknown>): JsonRpcResponse => ({
  jsonrpc: '2.0',
  id: call.message.id,
  result,
});

export async function startFakeRouter(natsUrl: string, instance: string): Promise<FakeRouter> {
  const bus = await Bus.connect({ url: natsUrl, name: `fake-router-${instance}` });
  const calls: RouterCall[] = [];
  const toUpstream: FakeRouter['toUpstream'] = [];
  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  let issued = 0;

  const until = async (check: () => boolean, timeoutMs = 5000) => {
    for (const end = Date.now() + timeoutMs; !check();) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const related = (call: RouterCall, message: ToAgent['message']) => {
    if (call.stream) bus.publish(call.stream, { v: 1, message } satisfies ToAgent);
  };
  const progress = (call: RouterCall, n: number) =>
    related(call, {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: token(call), progress: n, total: 2 },
    });

  /** Sends a server-to-client request related to `call`; resolves with the agent's answer (a JSON-RPC response). */
  const ask = async (call: RouterCall, method: string, params: Record<string, unknown>) => {
    const id = gatewayRequestId(instance, ++issued);
    related(call, { jsonrpc: '2.0', id, method, params });
    const answered = (u: { payload: ToUpstream }) => 'id' in u.payload.message && u.payload.message.id === id;
    await until(() => toUpstream.some(answered), 10_000);
    return toUpstream.find(answered)!.payload.message;
  };

  const tool = async (call: RouterCall): Promise<Record<string, unknown>> => {
    const params = call.message.params ?? {};
    const text = (t: string) => ({
      content: [{ type: 'text', text: t }],
      structuredContent: { router: instance },
    });
    switch (params['name']) {
      case 'echo':
        return text(JSON.stringify(params['arguments'] ?? {}));
      case 'progress':
        progress(call, 1);
        progress(call, 2);
        return text('done');
      case 'gated':
        progress(call, 1);
        await gate;
        progress(call, 2);
        return text('gated done');
      case 'sample': {
        const id = gatewayRequestId(instance, ++issued);
        related(call, {
          jsonrpc: '2.0',
          id,
          method: 'sampling/createMessage',
          params: { messages: [], maxTokens: 1 },
        });
        await until(() => toUpstream.some((u) => 'id' in u.payload.message && u.payload.message.id === id));
        const answer = toUpstream.find((u) => 'id' in u.payload.message && u.payload.message.id === id)!;
        return text(JSON.stringify(answer.payload.message));
      }
      case 'twice': {
        const form = await ask(call, 'elicitation/create', {
          message: 'name?',
          requestedSchema: { type: 'object', properties: {} },
        });
        progress(call, 1);
        related(call, {
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'info', data: 'asked' },
        });
        related(call, {
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'debug', data: 'noise' },
        });
        const sampled = await ask(call, 'sampling/createMessage', { messages: [], maxTokens: 1 });
        return text(JSON.stringify([form, sampled]));
      }
      case 'pair': {
        const both = await Promise.all([ask(call, 'roots/list', {}), ask(call, 'roots/list', {})]);
        return text(JSON.stringify(both));
      }
      case 'hang':
        await until(() => toUpstream.some((u) => isCancelOf(u.payload, call)), 10_000);
        return text('cancelled late');
      case 'fail':
        throw new SystemFault('tool exploded');
      default:
        return { content: [{ type: 'text', text: 'unknown tool' }], isError: true };
    }
  };

  const handle = async (call: RouterCall): Promise<RouterReply> => {
    calls.push(call);
    const { method } = call.message;
    if (method === 'initialize') {
      if (call.session.target.kind === 'server' && call.session.target.server === 'missing')
        throw new CallerFault('unknown server: missing', 404);
      return {
        v: 1,
        router: instance,
        message: ok(call, {
          protocolVersion: call.session.protocolVersion,
          capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true } },
          serverInfo: { name: 'fake-router', version: '1.0.0' },
        }),
      };
    }
    if (method === 'tools/list')
      return {
        v: 1,
        router: instance,
        message: ok(call, { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }),
      };
    if (method === 'tools/call') return { v: 1, router: instance, message: ok(call, await tool(call)) };
    if (method === 'resources/subscribe' || method === 'resources/unsubscribe')
      return { v: 1, router: instance, message: ok(call, {}) };
    if (method === 'resources/read') {
      const uri = String(call.message.params?.['uri']);
      if (uri.startsWith('missing://'))
        return {
          v: 1,
          router: instance,
          message: {
            jsonrpc: '2.0',
            id: call.message.id,
            error: { code: -32002, message: `Resource not found: ${uri}` },
          },
        };
      return { v: 1, router: instance, message: ok(call, { contents: [{ uri, text: 'content' }] }) };
    }
    return {
      v: 1,
      router: instance,
      message: {
        jsonrpc: '2.0',
        id: call.message.id,
        error: { code: -32601, message: `Method not found: ${method}` },
      },
    };
  };

  const service: RunningService = await serve(
    bus,
    { name: 'meshgate-router', version: '0.0.1', description: 'fake router for ingress tests' },
    [
      {
        name: 'call',
        subject: Subjects.routerCall,
        queue: QueueGroups.router,
        request: RouterCall,
        handler: handle,
      },
      {
        name: 'instance-call',
        subject: Subjects.routerInstanceCall(instance),
        queue: QueueGroups.router,
        request: RouterCall,
        handler: handle,
      },
    ],
  );
  const record = (_err: unknown, msg: { subject: string; data: Uint8Array }) => {
    toUpstream.push({ subject: msg.subject, payload: decodeJson(ToUpstream, msg.data, 'to-upstream') });
  };
  const subs = [
    bus.nc.subscribe(Subjects.sessionToUpstreamAll, { callback: record }),
    bus.nc.subscribe(Subjects.routerToUpstream(instance), { callback: record }),
  ];
  await bus.nc.flush();

  return {
    instance,
    calls,
    toUpstream,
    toAgent: (sessionId, message) =>
      bus.publish(Subjects.sessionToAgent(sessionId), { v: 1, message } satisfies ToAgent),
    openGate: () => openGate(),
    until,
    async stop() {
      for (const s of subs) s.unsubscribe();
      await service.stop();
      await bus.close();
    },
  };
}

function token(call: RouterCall): string | number {
  const meta = call.message.params?.['_meta'] as { progressToken?: string | number } | undefined;
  return meta?.progressToken ?? 'progress';
}

function isCancelOf(u: ToUpstream, call: RouterCall): boolean {
  const m = u.message;
  return (
    u.sessionId === call.session.id &&
    'method' in m &&
    m.method === 'notifications/cancelled' &&
    (m.params as Record<string, unknown> | undefined)?.['requestId'] === call.message.id
  );
}
