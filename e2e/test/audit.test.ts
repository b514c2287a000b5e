/**
 * The audit trail end to end: a gateway with the archiver in process, server-everything over stdio behind
 * it, and an SDK client on the federated endpoint. Every call must reach the archive as exactly one
 * request-received and one response-sent from ingress, plus one upstream-call from the router when the call
 * went upstream, all sharing one trace id; arguments only as digest and redacted copy; and the tenant's
 * hash chain must verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { argumentsDigest } from '@meshgate/audit';
import { AuditVerifyReply, AuditVerifySubject } from '@meshgate/audit-service';
import { Bus } from '@meshgate/bus';
import { DefaultTenant, type AuditEvent } from '@meshgate/contracts';
import { JsAuditArchive } from '@meshgate/store';
import { everythingStdioCommand, waitUntil } from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const AnyResult = z.looseObject({});
const SECRET_ARGS = { apiKey: 'sk-123', q: 'x' };

let gateway: Gateway;
let bus: Bus;
let sessionId: string;
/** Every archived event of the client's requests (initialize included), by trace id, once all are in. */
let byTrace: Map<string, AuditEvent[]>;

/** One request of the client, by what its request-received names. */
function traceOf(method: string, target: string | undefined): AuditEvent[] {
  const received = [...byTrace.values()].filter((events) =>
    events.some((e) => e.kind === 'request-received' && e.method === method && e.target === target),
  );
  expect(received, `${method} ${target}`).toHaveLength(1);
  return received[0]!;
}

const kinds = (events: AuditEvent[]) => events.map((e) => `${e.service}:${e.kind}`).sort();

beforeAll(async () => {
  const stdio = everythingStdioCommand();
  gateway = await startGateway({
    servers: { ev: { command: stdio.command, args: stdio.args } },
    audit: true,
  });
  bus = await Bus.connect({ url: gateway.natsUrl, name: 'e2e-audit' });
  const transport = new StreamableHTTPClientTransport(gateway.mcpUrl());
  const client = new Client({ name: 'e2e-audit', version: '1.0.0' });
  await client.connect(transport);
  sessionId = transport.sessionId!;
  try {
    await client.request(
      { method: 'tools/call', params: { name: 'ev__echo', arguments: SECRET_ARGS } },
      AnyResult,
    );
    await client.request(
      { method: 'prompts/get', params: { name: 'ev__args-prompt', arguments: { city: 'Paris' } } },
      AnyResult,
    );
    await expect(
      client.request({ method: 'tools/call', params: { name: 'no-such-tool', arguments: {} } }, AnyResult),
    ).rejects.toThrow();
  } finally {
    await client.close();
  }
  // initialize, two calls upstream, one refused by the router: 4 x 2 ingress events, and for each of the
  // two calls upstream a policy decision and an upstream-call.
  const archive = await JsAuditArchive.open(bus.nc);
  let events: AuditEvent[] = [];
  await waitUntil(
    async () => {
      const all = (await archive.records(DefaultTenant, 1, 1000)).map((r) => r.event);
      const traces = new Set(all.filter((e) => e.session === sessionId).map((e) => e.traceId));
      events = all.filter((e) => traces.has(e.traceId));
      return events.length >= 12;
    },
    15_000,
    'the requests of the session to be archived',
  );
  // Anything late (a duplicate) would show up here.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(events).toHaveLength(12);
  byTrace = new Map();
  for (const e of events) byTrace.set(e.traceId, [...(byTrace.get(e.traceId) ?? []), e]);
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await gateway?.stop();
});

describe('the audit trail of a session', () => {
  it('records a tool call as one event of each step, sharing its trace id, arguments redacted', () => {
    const events = traceOf('tools/call', 'ev__echo');
    expect(kinds(events)).toEqual([
      'ingress:request-received',
      'ingress:response-sent',
      'router:policy-decision',
      'router:upstream-call',
    ]);
    expect(events.find((e) => e.kind === 'policy-decision')).toMatchObject({
      effect: 'allow',
      policies: ['platform/agents-use-everything'],
      principal: 'default/anonymous',
      server: 'ev',
      target: 'echo',
    });
    const received = events.find((e) => e.kind === 'request-received')!;
    expect(received).toMatchObject({
      arguments: { digest: argumentsDigest(SECRET_ARGS), redacted: { apiKey: '[redacted]', q: 'x' } },
      protocolVersion: expect.any(String),
      clientAddress: '127.0.0.1',
      tenant: DefaultTenant,
      principal: 'default/anonymous',
    });
    expect(JSON.stringify(events)).not.toContain('sk-123');
    const upstream = events.find((e) => e.kind === 'upstream-call')!;
    expect(upstream).toMatchObject({ server: 'ev', target: 'echo', method: 'tools/call' });
    const sent = events.find((e) => e.kind === 'response-sent')!;
    expect(sent).toMatchObject({ outcome: 'ok', sizeBytes: expect.any(Number) });
    if (sent.kind === 'response-sent') expect(sent.sizeBytes).toBeGreaterThan(0);
  });

  it('records a prompt with its arguments as digest and copy', () => {
    const events = traceOf('prompts/get', 'ev__args-prompt');
    expect(kinds(events)).toEqual([
      'ingress:request-received',
      'ingress:response-sent',
      'router:policy-decision',
      'router:upstream-call',
    ]);
    expect(events.find((e) => e.kind === 'upstream-call')).toMatchObject({
      target: 'args-prompt',
      outcome: 'ok',
    });
    expect(events.find((e) => e.kind === 'request-received')).toMatchObject({
      arguments: { digest: argumentsDigest({ city: 'Paris' }), redacted: { city: 'Paris' } },
    });
  });

  it('records an unknown tool, answered by the router without an upstream call, as an error', () => {
    const events = traceOf('tools/call', 'no-such-tool');
    expect(kinds(events)).toEqual(['ingress:request-received', 'ingress:response-sent']);
    expect(events.find((e) => e.kind === 'response-sent')).toMatchObject({
      outcome: 'error',
      error: { code: expect.any(Number), message: expect.any(String) },
    });
  });

  it('records initialize, with the new session on its answer', () => {
    const events = traceOf('initialize', undefined);
    expect(kinds(events)).toEqual(['ingress:request-received', 'ingress:response-sent']);
    expect(events.find((e) => e.kind === 'response-sent')).toMatchObject({
      outcome: 'ok',
      session: sessionId,
    });
    expect(events.find((e) => e.kind === 'request-received')?.session).toBeUndefined();
  });

  it('keeps a tenant chain that verifies', async () => {
    const report = await bus.request(AuditVerifySubject, { tenant: DefaultTenant }, AuditVerifyReply, {
      timeoutMs: 10_000,
    });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checked).toBeGreaterThanOrEqual(12);
  });
});
