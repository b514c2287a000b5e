/**
 * Feature-suite tests of initialize, ping, the tool list and the tools that answer from their arguments.
 */
import { expect, it } from 'vitest';
import { FIXTURE_TEXT, TASKS_CAPABILITY, TINY_PNG_BASE64, TONE_WAV_BASE64 } from '../fixtures/index';
import { fixtureNames } from './naming';
import { PROBE_CLIENT_INFO } from './probe-client';
import { firstText, structured } from './probe-results';
import type { SuiteContext } from './suite-context';

const BASE_TOOLS = [
  'add',
  'echo',
  'elicit',
  'elicitUrl',
  'fail',
  'log',
  'longTask',
  'mixed',
  'notifyChanged',
  'pollResume',
  'progress',
  'roots',
  'sample',
  'schema2020',
  'slow',
  'wasCancelled',
  'whoami',
];

/** The fixture's server info; a federated endpoint must not show it. */
const FIXTURE_INFO = { name: 'meshgate-fixture', title: 'Meshgate feature fixture', version: '1.0.0' };

/** Registers the tool tests. */
export function toolTests({ opts, naming, probe, call }: SuiteContext): void {
  const ownTool = async (name: string) =>
    (await probe().client.listTools()).tools.find((tool) => tool.name === naming.tool.toWire(name));

  it('initialize: answers the era asked for, with server info, capabilities and instructions', () => {
    expect(probe().protocolVersion).toBe(opts.era);
    const info = probe().client.getServerVersion();
    if (opts.gatewayInfo) {
      expect(info).toMatchObject(opts.gatewayInfo);
      expect(info?.name).not.toBe(FIXTURE_INFO.name);
    } else {
      expect(info).toMatchObject(FIXTURE_INFO);
      if (opts.era === '2025-11-25') expect(info?.description).toMatch(/^Upstream MCP server/);
      expect(probe().client.getInstructions()).toMatch(/Fixture server/);
    }
    expect(probe().client.getServerCapabilities()).toEqual({
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
      // Tasks came with 2025-11-25: a bridging endpoint does not tell an older agent of them.
      ...(opts.era >= '2025-11-25' || !opts.eraBridged ? { tasks: TASKS_CAPABILITY } : {}),
    });
  });

  it('tools/list: every tool, keeping 2020-12 keywords, annotations, titles, _meta and output schemas', async () => {
    const { tools } = await probe().client.listTools();
    const expected = opts.crashable ? [...BASE_TOOLS, 'crash'].sort() : BASE_TOOLS;
    expect(
      fixtureNames(
        naming.tool,
        tools.map((t) => t.name),
      ).sort(),
    ).toEqual(expected);
    const schema = tools.find((t) => t.name === naming.tool.toWire('schema2020'));
    expect(schema?.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { tag: { type: 'string', minLength: 1, maxLength: 32 } },
      properties: { point: { prefixItems: [{ type: 'number' }, { type: 'number' }], items: false } },
      unevaluatedProperties: false,
    });
    expect(schema?.annotations).toEqual({
      title: 'Schema probe',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(schema?.title).toBe('JSON Schema 2020-12 probe');
    expect(schema?._meta).toEqual({ 'io.meshgate.fixture/kind': 'schema-probe' });
    expect(tools.find((t) => t.name === naming.tool.toWire('add'))?.outputSchema).toEqual({
      type: 'object',
      properties: { sum: { type: 'number' } },
      required: ['sum'],
    });
  });

  if (opts.era === '2025-11-25') {
    it('icons: tools and resources list their icons', async () => {
      expect((await ownTool('schema2020'))?.icons).toEqual([
        {
          src: `data:image/png;base64,${TINY_PNG_BASE64}`,
          mimeType: 'image/png',
          sizes: ['1x1'],
          theme: 'light',
        },
      ]);
      const { resources } = await probe().client.listResources();
      const counter = resources.find((r) => r.uri === naming.uri.toWire('fixture://counter'));
      expect(counter?.icons).toEqual([
        { src: `data:image/png;base64,${TINY_PNG_BASE64}`, mimeType: 'image/png', sizes: ['1x1'] },
      ]);
    });
  }

  it('tools/call: text, structured output, every content block type and tool errors', async () => {
    expect(firstText(await call('echo', { text: 'héllo ✓' }))).toBe('héllo ✓');
    const sum = await call('add', { a: 2, b: 3.5 });
    expect(structured(sum)).toEqual({ sum: 5.5 });
    expect(JSON.parse(firstText(sum))).toEqual({ sum: 5.5 });
    const mixed = await call('mixed');
    expect(mixed.content.map((block) => block.type)).toEqual([
      'text',
      'image',
      'audio',
      'resource',
      'resource_link',
    ]);
    expect(mixed.content[0]).toEqual({
      type: 'text',
      text: 'five content blocks',
      annotations: { audience: ['user', 'assistant'], priority: 0.8 },
    });
    expect(mixed.content[1]).toEqual({ type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' });
    expect(mixed.content[2]).toEqual({ type: 'audio', data: TONE_WAV_BASE64, mimeType: 'audio/wav' });
    expect(Buffer.from(TONE_WAV_BASE64, 'base64').subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(mixed.content[3]).toEqual({
      type: 'resource',
      resource: { uri: naming.uri.toWire('fixture://text'), mimeType: 'text/plain', text: FIXTURE_TEXT },
    });
    expect(mixed.content[4]).toEqual({
      type: 'resource_link',
      uri: naming.uri.toWire('fixture://blob'),
      name: 'blob',
      title: 'Byte ramp',
      mimeType: 'application/octet-stream',
      _meta: { 'io.meshgate.fixture/size': 256 },
    });
    const failed = await call('fail', { reason: 'on purpose' });
    expect(failed.isError).toBe(true);
    expect(firstText(failed)).toBe('fixture failure: on purpose');
  });

  it('tools/call: 2020-12 arguments, bad arguments as tool errors, unknown tools as JSON-RPC errors', async () => {
    const args = { point: [1, 2], tags: ['a'], label: 'x' };
    expect(structured(await call('schema2020', args))).toEqual({ received: args });
    const extraKey = await call('schema2020', { point: [1, 2], extra: true });
    expect(extraKey.isError).toBe(true);
    expect(firstText(extraKey)).toMatch(/Unrecognized key/);
    expect((await call('schema2020', { point: [1, 2, 3] })).isError).toBe(true);
    await expect(call('no-such-tool')).rejects.toMatchObject({ code: -32602 });
  });

  it('ping: answers, and whoami tells the process, connection and client that answered', async () => {
    await expect(probe().client.ping()).resolves.toEqual({});
    const me = structured(await call('whoami'));
    expect(me).toMatchObject({
      pid: expect.any(Number),
      client: opts.upstreamClientName ?? PROBE_CLIENT_INFO.name,
    });
    expect(me['process']).toMatch(/^[0-9a-f-]{36}$/);
    expect(me['connection']).toMatch(/^[0-9a-f-]{36}$/);
    expect(structured(await call('whoami'))['connection']).toBe(me['connection']);
  });
}
