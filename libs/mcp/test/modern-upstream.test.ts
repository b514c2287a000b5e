import { describe, expect, it } from 'vitest';
import {
  ModernWire,
  discoverAsInitializeResult,
  encodeHeaderValue,
  errorFromModernUpstream,
  inputRequestParams,
  inputRequiredOf,
  modernDiscoverResult,
  modernRequestHeaders,
  resultFromModernUpstream,
  retryParams,
  upstreamCapabilities,
  withUpstreamEnvelope,
} from '../src/modern-upstream';

const info = { name: 'meshgate', version: '1.0.0' };

describe('the envelope and headers of a request to a modern upstream', () => {
  it('adds the envelope to _meta and keeps the caller keys (progressToken)', () => {
    const params = { name: 'echo', _meta: { progressToken: 'mg-1' } };
    const sent = withUpstreamEnvelope(params, {
      clientCapabilities: { sampling: {} },
      clientInfo: info,
      logLevel: 'info',
    });
    expect(sent).toEqual({
      name: 'echo',
      _meta: {
        progressToken: 'mg-1',
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
        'io.modelcontextprotocol/clientInfo': info,
        'io.modelcontextprotocol/logLevel': 'info',
      },
    });
    expect(params).toEqual({ name: 'echo', _meta: { progressToken: 'mg-1' } });
  });

  it("declares the agent's relayable capabilities only, or the gateway's own without an agent", () => {
    expect(
      upstreamCapabilities({
        sampling: { tools: {} },
        roots: { listChanged: true },
        experimental: { x: {} },
      }),
    ).toEqual({ sampling: { tools: {} }, roots: {} });
    expect(upstreamCapabilities({})).toEqual({});
    expect(upstreamCapabilities(undefined)).toEqual({
      sampling: {},
      elicitation: { form: {}, url: {} },
      roots: {},
    });
  });

  it('derives MCP-Protocol-Version, Mcp-Method and Mcp-Name from the message', () => {
    const params = withUpstreamEnvelope(
      { uri: 'file:///tmp/ä b' },
      { clientCapabilities: {}, clientInfo: info },
    );
    expect(modernRequestHeaders({ jsonrpc: '2.0', id: 1, method: 'resources/read', params })).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'resources/read',
      'mcp-name': `=?base64?${Buffer.from('file:///tmp/ä b').toString('base64')}?=`,
    });
    const list = withUpstreamEnvelope(undefined, { clientCapabilities: {}, clientInfo: info });
    expect(modernRequestHeaders({ id: 2, method: 'tools/list', params: list })).toEqual({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
    });
    expect(modernRequestHeaders({ id: 3, method: 'tools/list', params: {} })).toBeUndefined();
    expect(modernRequestHeaders({ method: 'notifications/cancelled', params: list })).toBeUndefined();
  });

  it('encodes header values that are not plain ASCII', () => {
    expect(encodeHeaderValue('get_weather')).toBe('get_weather');
    expect(encodeHeaderValue(' padded')).toBe(`=?base64?${Buffer.from(' padded').toString('base64')}?=`);
    expect(encodeHeaderValue('')).toBe('=?base64??=');
    expect(encodeHeaderValue('=?base64?abc?=')).toMatch(/^=\?base64\?.+\?=$/);
  });
});

describe('what a modern upstream answers', () => {
  const discover = {
    supportedVersions: ['2026-07-28'],
    capabilities: { tools: { listChanged: true } },
    instructions: 'be nice',
    resultType: 'complete',
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [ModernWire.serverInfoKey]: { name: 'up', version: '2' } },
  };

  it('reads a discover result offering 2026-07-28 as an InitializeResult', () => {
    const parsed = modernDiscoverResult(discover);
    expect(parsed).toBeDefined();
    expect(discoverAsInitializeResult(parsed!, 'fallback')).toEqual({
      protocolVersion: '2026-07-28',
      capabilities: { tools: { listChanged: true } },
      serverInfo: { name: 'up', version: '2' },
      instructions: 'be nice',
    });
    const anonymous = modernDiscoverResult({ supportedVersions: ['2026-07-28'], capabilities: {} });
    expect(discoverAsInitializeResult(anonymous!, 'fallback')).toMatchObject({
      serverInfo: { name: 'fallback', version: 'unknown' },
    });
  });

  it('does not take a discover result without 2026-07-28, or anything else, for one', () => {
    expect(modernDiscoverResult({ ...discover, supportedVersions: ['2027-01-01'] })).toBeUndefined();
    expect(modernDiscoverResult({ protocolVersion: '2025-11-25', capabilities: {} })).toBeUndefined();
    expect(modernDiscoverResult(null)).toBeUndefined();
  });

  it('strips resultType, cache fields and the serverInfo stamp for session-era agents only', () => {
    const result = {
      contents: [{ uri: 'a://b', text: 'x' }],
      resultType: 'complete',
      ttlMs: 5,
      cacheScope: 'public',
      _meta: { [ModernWire.serverInfoKey]: { name: 'up', version: '2' }, 'com.example/k': 1 },
    };
    expect(resultFromModernUpstream(result, '2025-06-18')).toEqual({
      contents: [{ uri: 'a://b', text: 'x' }],
      _meta: { 'com.example/k': 1 },
    });
    expect(
      resultFromModernUpstream({ content: [], resultType: 'complete', _meta: discover._meta }, '2024-11-05'),
    ).toEqual({ content: [] });
    expect(resultFromModernUpstream(result, '2026-07-28')).toBe(result);
  });

  it('translates the stateless-only error codes for session-era agents', () => {
    const missing = {
      code: -32021,
      message: 'missing',
      data: { requiredCapabilities: { sampling: {} } },
    };
    expect(errorFromModernUpstream(missing, '2025-11-25')).toMatchObject({
      code: -32602,
      message: /client's sampling capability/,
      data: { requiredCapabilities: { sampling: {} } },
    });
    expect(errorFromModernUpstream({ code: -32022, message: 'bad version' }, '2025-03-26')).toEqual({
      code: -32603,
      message: 'upstream refused the request: bad version',
    });
    expect(errorFromModernUpstream(missing, '2026-07-28')).toBe(missing);
    const other = { code: -32602, message: 'Resource not found' };
    expect(errorFromModernUpstream(other, '2025-03-26')).toBe(other);
  });
});

describe('multi round-trip requests', () => {
  it('builds the retry params from the responses and the echoed state', () => {
    const first = { name: 't', arguments: { a: 1 } };
    expect(retryParams(first, { k: { action: 'accept' } }, 's1')).toEqual({
      name: 't',
      arguments: { a: 1 },
      inputResponses: { k: { action: 'accept' } },
      requestState: 's1',
    });
    const second = retryParams(first, {}, 's1');
    expect(retryParams(second, { j: {} }, undefined)).toEqual({
      name: 't',
      arguments: { a: 1 },
      inputResponses: { j: {} },
    });
  });

  it('reads the embedded requests and state of an input_required result, refusing malformed ones', () => {
    const result = JSON.parse(
      '{"resultType":"input_required","inputRequests":{"__proto__":{"method":"roots/list"},"b":{"method":"sampling/createMessage","params":{"maxTokens":1}}},"requestState":"s"}',
    ) as Record<string, unknown>;
    expect(inputRequiredOf(result)).toEqual({
      requests: [
        ['__proto__', { method: 'roots/list' }],
        ['b', { method: 'sampling/createMessage', params: { maxTokens: 1 } }],
      ],
      requestState: 's',
    });
    expect(inputRequiredOf({ resultType: 'input_required', requestState: 's' })).toEqual({
      requests: [],
      requestState: 's',
    });
    expect(
      inputRequiredOf({ resultType: 'input_required', inputRequests: { a: { method: 'tools/call' } } }),
    ).toBeUndefined();
    expect(inputRequiredOf({ resultType: 'input_required', inputRequests: [] })).toBeUndefined();
    expect(inputRequiredOf({ resultType: 'complete' })).toBeUndefined();
  });

  it('gives a URL elicitation the elicitationId a 2025-11-25 agent expects', () => {
    const url = {
      method: 'elicitation/create' as const,
      params: { mode: 'url', message: 'm', url: 'https://x' },
    };
    expect(inputRequestParams(url, 'e1')).toEqual({
      mode: 'url',
      message: 'm',
      url: 'https://x',
      elicitationId: 'e1',
    });
    const form = { method: 'elicitation/create' as const, params: { message: 'm', requestedSchema: {} } };
    expect(inputRequestParams(form, 'e2')).toBe(form.params);
    expect(inputRequestParams({ method: 'roots/list' }, 'e3')).toEqual({});
  });
});
