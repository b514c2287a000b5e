// Up-conversion of session-era results and errors for 2026-07-28 agents, and the DiscoverResult.
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@meshgate/contracts';
import { MetaKeys } from '../src/modern-envelope';
import { discoverResult, modernError, modernResult, serverFacts } from '../src/modern-results';

const info = { name: 'meshgate', version: '1.2.3' };

describe('modernResult', () => {
  it('stamps resultType and the server identity on every result', () => {
    const call = { content: [{ type: 'text', text: 'hi' }], structuredContent: { a: 1 } };
    const out = modernResult('tools/call', call, info);
    expect(out).toEqual({ ...call, resultType: 'complete', _meta: { [MetaKeys.serverInfo]: info } });
    expect(call).not.toHaveProperty('resultType');
  });

  it('fills the cache hint of cacheable results only, keeping valid ones', () => {
    expect(modernResult('tools/list', { tools: [] }, undefined)).toEqual({
      tools: [],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
    });
    expect(
      modernResult('resources/read', { contents: [], ttlMs: 500, cacheScope: 'public' }, undefined),
    ).toMatchObject({ ttlMs: 500, cacheScope: 'public' });
    expect(
      modernResult('resources/read', { contents: [], ttlMs: -1, cacheScope: 'world' }, undefined),
    ).toMatchObject({
      ttlMs: 0,
      cacheScope: 'private',
    });
    expect(modernResult('tools/call', { content: [] }, undefined)).not.toHaveProperty('ttlMs');
  });

  it('drops what the era deleted: tool execution, the tasks capability', () => {
    const out = modernResult(
      'tools/list',
      { tools: [{ name: 'a', inputSchema: { type: 'object' }, execution: { taskSupport: 'optional' } }] },
      undefined,
    );
    expect(out['tools']).toEqual([{ name: 'a', inputSchema: { type: 'object' } }]);
  });

  it('keeps a server identity the result already names and other _meta keys', () => {
    const own = { name: 'upstream', version: '9' };
    expect(
      modernResult('tools/call', { content: [], _meta: { [MetaKeys.serverInfo]: own, x: 1 } }, info),
    ).toEqual({
      content: [],
      resultType: 'complete',
      _meta: { [MetaKeys.serverInfo]: own, x: 1 },
    });
  });

  it('passes an input_required result of a round-trip method with its resultType', () => {
    const ir = { resultType: 'input_required', inputRequests: { a: { method: 'roots/list' } } };
    expect(modernResult('tools/call', ir, undefined)).toEqual(ir);
  });
});

describe('modernError', () => {
  it('maps resource-not-found -32002 to -32602 with the URI', () => {
    expect(
      modernError(
        'resources/read',
        { uri: 'fixture://nope' },
        { code: ErrorCodes.ResourceNotFound, message: 'nf' },
      ),
    ).toEqual({ code: ErrorCodes.InvalidParams, message: 'nf', data: { uri: 'fixture://nope' } });
    const withData = { code: ErrorCodes.ResourceNotFound, message: 'nf', data: { uri: 'a://b' } };
    expect(modernError('resources/read', { uri: 'x' }, withData)).toEqual({ ...withData, code: -32602 });
  });

  it('leaves other errors as they are', () => {
    const e = { code: ErrorCodes.InvalidParams, message: 'bad' };
    expect(modernError('tools/call', {}, e)).toBe(e);
  });
});

describe('discoverResult', () => {
  it('is built from an InitializeResult: versions, capabilities without tasks, instructions, identity', () => {
    const facts = serverFacts({
      protocolVersion: '2025-11-25',
      capabilities: { tools: { listChanged: true }, tasks: { list: {} } },
      serverInfo: info,
      instructions: 'Use the tools.',
    });
    expect(discoverResult(facts, ['2026-07-28', '2025-11-25'])).toEqual({
      supportedVersions: ['2026-07-28', '2025-11-25'],
      capabilities: { tools: { listChanged: true } },
      instructions: 'Use the tools.',
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { [MetaKeys.serverInfo]: info },
    });
  });

  it('survives an unusable InitializeResult', () => {
    expect(serverFacts({ capabilities: 'none' })).toEqual({
      capabilities: {},
      serverInfo: undefined,
      instructions: undefined,
    });
  });
});
