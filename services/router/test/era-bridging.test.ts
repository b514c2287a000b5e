/**
 * Server-to-client requests, notifications and errors in the agent's own era (issue 3), through the router
 * with the feature fixture of @meshgate/testing and the era fixture over stdio: a URL elicitation reaches a
 * form-only agent as a form carrying the URL and its answer goes back as a URL-mode answer; a 2025-11-25
 * form reaches a 2025-06-18 agent in 2025-06-18 shapes with its defaults filled back; an agent whose era or
 * capabilities have no elicitation never sees one and the upstream gets the agent's error; error codes are
 * those of the agent's era.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, type SessionInfo, type Target } from '@meshgate/contracts';
import { ELICIT_FORM_SCHEMA, featureServerStdioCommand } from '@meshgate/testing';
import { ConnectUrl } from './fixtures/era-fixture';
import {
  errorOf,
  eventually,
  newSession,
  resultOf,
  startHarness,
  stdioFixture,
  uniqueName,
  type Harness,
} from './harness';

let h: Harness;
const fx = uniqueName('fx');
const era = uniqueName('era');

beforeAll(async () => {
  h = await startHarness();
  const { command, args } = featureServerStdioCommand();
  await h.put({ name: fx, transport: 'stdio', command, args });
  await h.put(stdioFixture(era, 'era'));
}, 30_000);
afterAll(async () => {
  await h?.close();
});

/** A session of `version` declaring `capabilities`. */
function session(
  target: Target,
  protocolVersion: string,
  capabilities: Record<string, unknown>,
): SessionInfo {
  return { ...newSession(target, capabilities), protocolVersion };
}

/** Calls `tool` with a stream, waits for the server-to-client request of `method` on it, answers `result`. */
async function callAnswering(
  s: SessionInfo,
  tool: string,
  args: Record<string, unknown>,
  method: string,
  result: Record<string, unknown>,
) {
  const stream = Subjects.ingressStream(
    'ingress-test',
    `e${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
  );
  const seen = h.collect(stream);
  const toAgent = h.collect(Subjects.sessionToAgent(s.id));
  const calling = h.call(s, 'tools/call', { name: tool, arguments: args }, { stream });
  const request = await eventually(() => seen.messages.find((m) => m['method'] === method));
  h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
    v: 1,
    sessionId: s.id,
    message: { jsonrpc: '2.0', id: request['id'], result },
  });
  const reply = resultOf(await calling);
  return { request, reply, seen: [...seen.messages, ...toAgent.messages] };
}

describe('URL elicitation', () => {
  it('reaches a 2025-06-18 agent as a form carrying the URL; its accept goes back as a URL-mode answer', async () => {
    const s = session({ kind: 'server', server: fx }, '2025-06-18', { elicitation: {} });
    const url = 'https://consent.example.org/approve?x=1';
    const { request, reply, seen } = await callAnswering(
      s,
      'elicitUrl',
      { message: 'Approve access', url },
      'elicitation/create',
      {
        action: 'accept',
        content: {},
      },
    );
    expect(request['params']).toEqual({
      message: `Approve access\n\nOpen this link (on consent.example.org) to continue, then accept: ${url}`,
      requestedSchema: { type: 'object', properties: {} },
    });
    expect(reply['structuredContent']).toMatchObject({ action: 'accept', url });
    // The upstream sent notifications/elicitation/complete before answering: the agent never gets it.
    expect(seen.filter((m) => m['method'] === 'notifications/elicitation/complete')).toEqual([]);
  });

  it('keeps the mode for a 2025-11-25 form-only agent, and maps a decline back', async () => {
    const s = session({ kind: 'federated' }, '2025-11-25', { elicitation: { form: {} } });
    const { request, reply } = await callAnswering(s, `${fx}__elicitUrl`, {}, 'elicitation/create', {
      action: 'decline',
    });
    expect(request['params']).toMatchObject({
      mode: 'form',
      requestedSchema: { type: 'object', properties: {} },
    });
    expect((request['params'] as { message: string }).message).toContain(
      'https://example.org/meshgate-fixture/consent',
    );
    expect(reply['structuredContent']).toMatchObject({ action: 'decline' });
  });

  it('passes unchanged to an agent that declared URL mode, with its completion notification', async () => {
    const s = session({ kind: 'server', server: fx }, '2025-11-25', { elicitation: { form: {}, url: {} } });
    const { request, seen } = await callAnswering(s, 'elicitUrl', {}, 'elicitation/create', {
      action: 'accept',
    });
    expect(request['params']).toMatchObject({
      mode: 'url',
      url: expect.stringContaining('https://example.org/'),
    });
    const elicitationId = (request['params'] as { elicitationId: string }).elicitationId;
    expect(seen).toContainEqual({
      jsonrpc: '2.0',
      method: 'notifications/elicitation/complete',
      params: { elicitationId },
    });
  });
});

describe('form elicitation', () => {
  it('reaches a 2025-06-18 agent without SEP-1330 enums or SEP-1034 defaults, and fills the defaults back', async () => {
    const s = session({ kind: 'server', server: fx }, '2025-06-18', { elicitation: {} });
    const { request, reply } = await callAnswering(s, 'elicit', {}, 'elicitation/create', {
      action: 'accept',
      content: { color: 'red' },
    });
    const params = request['params'] as {
      mode?: string;
      requestedSchema: { properties: Record<string, Record<string, unknown>> };
    };
    expect(params.mode).toBeUndefined();
    const { color, size, count, notify } = params.requestedSchema.properties;
    expect(color).toEqual({
      ...ELICIT_FORM_SCHEMA.properties['color'],
      default: undefined,
      description: 'Pick a colour. Default: green (used when left empty).',
    });
    expect(size).toEqual({
      type: 'string',
      title: 'Size',
      enum: ['s', 'm', 'l'],
      enumNames: ['Small', 'Medium', 'Large'],
      description: 'Default: Medium (used when left empty).',
    });
    expect(count).not.toHaveProperty('default');
    expect(notify).toEqual(ELICIT_FORM_SCHEMA.properties['notify']);
    expect(reply['structuredContent']).toEqual({
      action: 'accept',
      content: { color: 'red', size: 'm', count: 3 },
    });
  });

  it('is answered upstream, never relayed, for agents whose era or capabilities have no elicitation', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['2024-11-05', { elicitation: {} }, "the client's protocol version 2024-11-05 has no elicitation"],
      [
        '2025-03-26',
        { elicitation: {}, sampling: {} },
        "the client's protocol version 2025-03-26 has no elicitation",
      ],
      ['2025-06-18', { sampling: {} }, 'the client did not declare the elicitation capability'],
    ];
    for (const [version, caps, why] of cases) {
      const s = session({ kind: 'server', server: fx }, version, caps);
      const stream = Subjects.ingressStream('ingress-test', `n${Date.now()}`);
      const seen = h.collect(stream);
      const reply = resultOf(await h.call(s, 'tools/call', { name: 'elicit', arguments: {} }, { stream }));
      expect(reply['isError']).toBe(true);
      expect(JSON.stringify(reply['content'])).toContain(why);
      expect(seen.messages.filter((m) => m['method'] === 'elicitation/create')).toEqual([]);
    }
  });
});

describe('error codes', () => {
  it('spells resource-not-found -32002 for 2025-era agents and -32602 {uri} for 2026-07-28 agents', async () => {
    const old = session({ kind: 'server', server: era }, '2025-06-18', {});
    expect(errorOf(await h.call(old, 'resources/read', { uri: 'missing://x' }))).toEqual({
      code: -32002,
      message: 'MCP error -32602: Resource not found: missing://x',
      data: { uri: 'missing://x' },
    });
    const modern = session({ kind: 'federated' }, '2026-07-28', {});
    const uri = `${fx}+fixture://nothing-here`;
    expect(errorOf(await h.call(modern, 'resources/read', { uri }))).toMatchObject({
      code: -32602,
      data: { uri },
    });
    expect(errorOf(await h.call(modern, 'resources/read', { uri: 'ghost+x://y' }))).toMatchObject({
      code: -32602,
      data: { uri: 'ghost+x://y' },
    });
  });

  it('turns URL elicitation required into a readable error with the URL for agents that cannot follow it', async () => {
    const formOnly = session({ kind: 'server', server: era }, '2025-06-18', { elicitation: {} });
    expect(errorOf(await h.call(formOnly, 'tools/call', { name: 'connect' }))).toEqual({
      code: -32603,
      message: `MCP error -32042: Authorization required; open ${ConnectUrl} (Connect your account) and try again`,
    });
    const withUrl = session({ kind: 'server', server: era }, '2025-11-25', { elicitation: { url: {} } });
    expect(errorOf(await h.call(withUrl, 'tools/call', { name: 'connect' }))).toMatchObject({
      code: -32042,
      data: { elicitations: [{ url: ConnectUrl }] },
    });
  });
});
