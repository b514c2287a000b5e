import { describe, expect, it } from 'vitest';
import {
  routeRequest,
  namespaceResultUris,
  namespaceNotificationParams,
  unknownTargetError,
} from '../src/request-mapping';

describe('routeRequest', () => {
  it('de-namespaces tools/call and prompts/get, keeping the other params', () => {
    const params = { name: 'gh__create_issue', arguments: { title: 't' }, _meta: { progressToken: 7 } };
    expect(routeRequest('tools/call', params)).toEqual({
      server: 'gh',
      params: { name: 'create_issue', arguments: { title: 't' }, _meta: { progressToken: 7 } },
    });
    expect(params.name).toBe('gh__create_issue');
    expect(routeRequest('prompts/get', { name: 'p.greet' }, '.')).toEqual({
      server: 'p',
      params: { name: 'greet' },
    });
  });

  it('de-namespaces resource URIs for read, subscribe and unsubscribe', () => {
    for (const m of ['resources/read', 'resources/subscribe', 'resources/unsubscribe'])
      expect(routeRequest(m, { uri: 'fs+file:///a' })).toEqual({
        server: 'fs',
        params: { uri: 'file:///a' },
      });
  });

  it('de-namespaces completion references of both kinds', () => {
    expect(
      routeRequest('completion/complete', {
        ref: { type: 'ref/prompt', name: 'p__greet' },
        argument: { name: 'a', value: 'x' },
      }),
    ).toEqual({
      server: 'p',
      params: { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'a', value: 'x' } },
    });
    expect(
      routeRequest('completion/complete', { ref: { type: 'ref/resource', uri: 'db+db://{t}' } }),
    ).toEqual({
      server: 'db',
      params: { ref: { type: 'ref/resource', uri: 'db://{t}' } },
    });
  });

  it('answers -32602 for unroutable names and -32002 for unroutable resources', () => {
    expect(routeRequest('tools/call', { name: 'plain' })).toEqual({
      error: { code: -32602, message: 'unknown tool: plain' },
    });
    expect(routeRequest('tools/call', undefined)).toEqual({
      error: { code: -32602, message: 'unknown tool: (missing)' },
    });
    expect(routeRequest('resources/read', { uri: 'file:///a' })).toEqual({
      error: { code: -32002, message: 'resource not found: file:///a', data: { uri: 'file:///a' } },
    });
    expect(routeRequest('completion/complete', { ref: { type: 'ref/other', name: 'a__b' } })).toMatchObject({
      error: { code: -32602 },
    });
    expect(unknownTargetError('prompts/get', { name: 'x__y' })).toEqual({
      code: -32602,
      message: 'unknown prompt: x__y',
    });
  });

  it('returns null for methods that name no server', () => {
    expect(routeRequest('tools/list', {})).toBeNull();
    expect(routeRequest('ping', undefined)).toBeNull();
  });
});

describe('namespaceResultUris', () => {
  it('namespaces resource links and embedded resources of tool results', () => {
    const result = {
      content: [
        { type: 'text', text: 'hi' },
        { type: 'resource_link', uri: 'file:///a', name: 'a' },
        { type: 'resource', resource: { uri: 'file:///b', text: 'b' }, annotations: { priority: 1 } },
      ],
      structuredContent: { uri: 'file:///untouched' },
      isError: false,
    };
    expect(namespaceResultUris('tools/call', result, 'fs')).toEqual({
      content: [
        { type: 'text', text: 'hi' },
        { type: 'resource_link', uri: 'fs+file:///a', name: 'a' },
        { type: 'resource', resource: { uri: 'fs+file:///b', text: 'b' }, annotations: { priority: 1 } },
      ],
      structuredContent: { uri: 'file:///untouched' },
      isError: false,
    });
    expect(result.content[1]).toEqual({ type: 'resource_link', uri: 'file:///a', name: 'a' });
  });

  it('namespaces resource contents and prompt message resources', () => {
    expect(
      namespaceResultUris('resources/read', { contents: [{ uri: 'x://1', blob: 'AA==' }] }, 's'),
    ).toEqual({
      contents: [{ uri: 's+x://1', blob: 'AA==' }],
    });
    expect(
      namespaceResultUris(
        'prompts/get',
        {
          messages: [{ role: 'user', content: { type: 'resource', resource: { uri: 'x://2', text: 't' } } }],
        },
        's',
      ),
    ).toEqual({
      messages: [{ role: 'user', content: { type: 'resource', resource: { uri: 's+x://2', text: 't' } } }],
    });
    expect(namespaceResultUris('tools/list', { tools: [] }, 's')).toEqual({ tools: [] });
  });

  it('namespaces the URI of resources/updated only', () => {
    expect(namespaceNotificationParams('notifications/resources/updated', { uri: 'x://1' }, 's')).toEqual({
      uri: 's+x://1',
    });
    expect(namespaceNotificationParams('notifications/message', { level: 'info' }, 's')).toEqual({
      level: 'info',
    });
  });
});
