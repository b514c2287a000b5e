import { describe, expect, it } from 'vitest';
import { AudioUri, resultForAgent } from '../src/era-results';

const tool = {
  name: 'rich',
  title: 'Rich tool',
  description: 'has every field',
  inputSchema: { type: 'object' },
  outputSchema: { type: 'object', properties: { n: { type: 'integer' } } },
  annotations: { readOnlyHint: true },
  icons: [{ src: 'https://example.com/i.png' }],
  execution: { taskSupport: 'optional' },
  _meta: { 'com.example/tag': 'x' },
};

describe('resultForAgent', () => {
  it('hands agents of the newest session era every result untouched (the same object)', () => {
    const result = { tools: [tool] };
    expect(resultForAgent('tools/list', result, '2025-11-25')).toBe(result);
    const call = {
      content: [{ type: 'resource_link', uri: 'x://a', name: 'a' }],
      structuredContent: { n: 1 },
    };
    expect(resultForAgent('tools/call', call, '2025-11-25')).toBe(call);
  });

  it('drops, era by era, the tool fields an older agent cannot read, and never changes the input', () => {
    const result = { tools: [tool], nextCursor: 'c' };
    const copy = structuredClone(result);
    expect(resultForAgent('tools/list', result, '2025-06-18')).toEqual({
      tools: [{ ...without(tool, ['icons', 'execution']) }],
      nextCursor: 'c',
    });
    expect(resultForAgent('tools/list', result, '2025-03-26')).toEqual({
      tools: [without(tool, ['icons', 'execution', 'title', 'outputSchema'])],
      nextCursor: 'c',
    });
    expect(resultForAgent('tools/list', result, '2024-11-05')).toEqual({
      tools: [without(tool, ['icons', 'execution', 'title', 'outputSchema', 'annotations'])],
      nextCursor: 'c',
    });
    expect(result).toEqual(copy);
  });

  it('keeps a title as the description when the item has none', () => {
    const prompt = {
      name: 'p',
      title: 'A prompt',
      arguments: [{ name: 'a', title: 'Arg A', required: true }],
    };
    expect(resultForAgent('prompts/list', { prompts: [prompt] }, '2025-03-26')).toEqual({
      prompts: [
        {
          name: 'p',
          description: 'A prompt',
          arguments: [{ name: 'a', description: 'Arg A', required: true }],
        },
      ],
    });
    const resource = { uri: 'x://r', name: 'r', title: 'R', description: 'kept', icons: [] };
    expect(resultForAgent('resources/list', { resources: [resource] }, '2025-03-26')).toEqual({
      resources: [{ uri: 'x://r', name: 'r', description: 'kept' }],
    });
    const template = { uriTemplate: 'x://{id}', name: 't', icons: [] };
    expect(
      resultForAgent('resources/templates/list', { resourceTemplates: [template] }, '2025-06-18'),
    ).toEqual({
      resourceTemplates: [{ uriTemplate: 'x://{id}', name: 't' }],
    });
  });

  it('gives structured output to agents before 2025-06-18 as text when the upstream sent no text block', () => {
    expect(resultForAgent('tools/call', { content: [], structuredContent: { n: 7 } }, '2025-03-26')).toEqual({
      content: [{ type: 'text', text: '{"n":7}' }],
    });
    // A server that sent the text too (as the spec asks): the structured copy is dropped, nothing added.
    expect(
      resultForAgent(
        'tools/call',
        { content: [{ type: 'text', text: '7' }], structuredContent: { n: 7 } },
        '2024-11-05',
      ),
    ).toEqual({ content: [{ type: 'text', text: '7' }] });
    expect(
      resultForAgent('tools/call', { structuredContent: { n: 7 }, isError: false }, '2025-03-26'),
    ).toEqual({
      content: [{ type: 'text', text: '{"n":7}' }],
      isError: false,
    });
  });

  it('turns a resource link into text, keeping its name, URI, type and description', () => {
    const link = {
      type: 'resource_link',
      uri: 'x://g',
      name: 'greeting',
      mimeType: 'text/plain',
      description: 'hi',
    };
    expect(resultForAgent('tools/call', { content: [link] }, '2025-03-26')).toEqual({
      content: [{ type: 'text', text: 'Resource: greeting <x://g> (text/plain) - hi' }],
    });
    expect(resultForAgent('tools/call', { content: [link] }, '2025-06-18')).toEqual({ content: [link] });
  });

  it('gives audio to 2024-11-05 agents as an embedded binary resource with the same bytes', () => {
    const audio = { type: 'audio', data: 'AAEC', mimeType: 'audio/wav' };
    expect(resultForAgent('tools/call', { content: [audio] }, '2024-11-05')).toEqual({
      content: [{ type: 'resource', resource: { uri: AudioUri, mimeType: 'audio/wav', blob: 'AAEC' } }],
    });
    expect(resultForAgent('tools/call', { content: [audio] }, '2025-03-26')).toEqual({ content: [audio] });
    const prompt = { messages: [{ role: 'user', content: audio }], description: 'd' };
    expect(resultForAgent('prompts/get', prompt, '2024-11-05')).toEqual({
      messages: [
        {
          role: 'user',
          content: { type: 'resource', resource: { uri: AudioUri, mimeType: 'audio/wav', blob: 'AAEC' } },
        },
      ],
      description: 'd',
    });
  });

  it('drops the server info and capabilities an older agent cannot read from initialize', () => {
    const result = {
      protocolVersion: '2024-11-05',
      capabilities: { tools: {}, completions: {}, tasks: { list: {} } },
      serverInfo: {
        name: 's',
        version: '1',
        title: 'S',
        icons: [],
        websiteUrl: 'https://s',
        description: 'd',
      },
    };
    expect(resultForAgent('initialize', result, '2024-11-05')).toEqual({
      protocolVersion: '2024-11-05',
      capabilities: { tools: {} },
      serverInfo: { name: 's', version: '1' },
    });
    expect(resultForAgent('initialize', result, '2025-06-18')).toEqual({
      protocolVersion: '2024-11-05',
      capabilities: { tools: {}, completions: {} },
      serverInfo: { name: 's', version: '1', title: 'S' },
    });
  });

  it('leaves malformed results and other methods alone', () => {
    const odd = { tools: 'not a list' };
    expect(resultForAgent('tools/list', odd, '2024-11-05')).toBe(odd);
    const read = { contents: [{ uri: 'x://a', text: 'a' }] };
    expect(resultForAgent('resources/read', read, '2024-11-05')).toBe(read);
    const items = { tools: [null, 3, 'x'] };
    expect(resultForAgent('tools/list', items, '2024-11-05')).toBe(items);
  });
});

function without(obj: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}
