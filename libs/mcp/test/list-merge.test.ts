import { describe, expect, it } from 'vitest';
import { mergeLists, namespaceItem, listKindOf, listChangedKinds } from '../src/list-merge';

const tool = {
  name: 'search',
  title: 'Search',
  description: 'find things',
  inputSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { q: { type: 'string', minLength: 1 }, n: { type: 'integer', default: 5 } },
    required: ['q'],
    additionalProperties: false,
    $defs: { x: { const: 1 } },
  },
  outputSchema: { type: 'object', properties: { hits: { type: 'array' } } },
  annotations: { readOnlyHint: true, openWorldHint: false },
  icons: [{ src: 'https://example.com/i.png', mimeType: 'image/png', sizes: ['48x48'] }],
  _meta: { 'com.example/x': 1 },
};

describe('mergeLists', () => {
  it('namespaces tools and keeps every other field as it is', () => {
    const merged = mergeLists('tools', [
      { server: 'alpha', items: [tool] },
      { server: 'beta', items: [{ name: 'search', inputSchema: { type: 'object' } }] },
    ]);
    expect(merged.map((t) => t['name'])).toEqual(['alpha__search', 'beta__search']);
    const { name: _n, ...rest } = merged[0]!;
    const { name: _o, ...original } = tool;
    expect(rest).toEqual(original);
    expect(tool.name).toBe('search');
  });

  it('namespaces resources by uri, templates by uriTemplate and prompts by name', () => {
    expect(
      mergeLists('resources', [{ server: 'fs', items: [{ uri: 'file:///a', name: 'a', size: 3 }] }]),
    ).toEqual([{ uri: 'fs+file:///a', name: 'a', size: 3 }]);
    expect(
      mergeLists('resourceTemplates', [
        { server: 'db', items: [{ uriTemplate: 'db://{table}', name: 't' }] },
      ]),
    ).toEqual([{ uriTemplate: 'db+db://{table}', name: 't' }]);
    expect(
      mergeLists('prompts', [{ server: 'p', items: [{ name: 'greet', arguments: [{ name: 'who' }] }] }], '.'),
    ).toEqual([{ name: 'p.greet', arguments: [{ name: 'who' }] }]);
  });

  it('drops items that are not objects and leaves items without an identifier unchanged', () => {
    const items = [null, 'x', [1], { description: 'no name' }] as unknown as Record<string, unknown>[];
    expect(mergeLists('tools', [{ server: 's', items }])).toEqual([{ description: 'no name' }]);
    expect(namespaceItem('resources', 's', { name: 'no uri' })).toEqual({ name: 'no uri' });
  });
});

describe('list methods', () => {
  it('maps methods and list_changed notifications to kinds', () => {
    expect(listKindOf('resources/templates/list')).toBe('resourceTemplates');
    expect(listKindOf('tools/call')).toBeNull();
    expect(listChangedKinds('notifications/resources/list_changed')).toEqual([
      'resources',
      'resourceTemplates',
    ]);
    expect(listChangedKinds('notifications/message')).toEqual([]);
  });
});
