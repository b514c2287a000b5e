/**
 * Feature-suite tests of resources, subscriptions, change notifications, prompts and completion.
 */
import { expect, it } from 'vitest';
import { McpError, type Notification } from '@modelcontextprotocol/sdk/types.js';
import { BYTE_RAMP, COUNTER_URI, FIXTURE_TEXT, ITEM_TEMPLATE, TINY_PNG_BASE64 } from '../fixtures/index';
import { fixtureNames } from './naming';
import { structured, waitUntil } from './probe-results';
import type { SuiteContext } from './suite-context';

const LIST_CHANGED = ['tools/list_changed', 'resources/list_changed', 'prompts/list_changed'];

/** Registers the resource and prompt tests. */
export function resourceTests({ naming, probe, call }: SuiteContext): void {
  const uri = (fixtureUri: string) => naming.uri.toWire(fixtureUri);
  const read = async (fixtureUri: string) =>
    (await probe().client.readResource({ uri: uri(fixtureUri) })).contents;

  it('resources/subscribe: updated to subscribers, list_changed to all, no updates after unsubscribe', async () => {
    const counter = async () =>
      (JSON.parse(((await read(COUNTER_URI))[0] as { text: string }).text) as { value: number }).value;
    const counterUpdated = (n: Notification) =>
      n.method === 'notifications/resources/updated' && n.params?.['uri'] === uri(COUNTER_URI);
    await expect(probe().client.subscribeResource({ uri: uri('fixture://nothing') })).rejects.toMatchObject({
      code: -32002,
    });
    await probe().client.subscribeResource({ uri: uri(COUNTER_URI) });
    probe().notifications.length = 0;
    const start = await counter();
    expect(structured(await call('notifyChanged'))).toEqual({ counter: start + 1 });
    await probe().waitFor(counterUpdated);
    for (const method of LIST_CHANGED) await probe().waitFor((n) => n.method === `notifications/${method}`);
    expect(probe().notifications.find(counterUpdated)?.params).toEqual({ uri: uri(COUNTER_URI) });
    expect(await counter()).toBe(start + 1);
    await probe().client.unsubscribeResource({ uri: uri(COUNTER_URI) });
    const promptsChanged = probe().count('notifications/prompts/list_changed');
    await call('notifyChanged');
    await waitUntil(
      () => probe().count('notifications/prompts/list_changed') > promptsChanged,
      5000,
      'the second prompts/list_changed',
    );
    expect(probe().notifications.filter(counterUpdated)).toHaveLength(1);
  });

  it('resources: lists resources and templates, reads text, binary and templated ones, completes variables', async () => {
    const { resources } = await probe().client.listResources();
    expect(
      fixtureNames(
        naming.uri,
        resources.map((r) => r.uri),
      ),
    ).toEqual(['fixture://text', 'fixture://blob', COUNTER_URI]);
    const { resourceTemplates } = await probe().client.listResourceTemplates();
    expect(resourceTemplates.filter((t) => naming.uriTemplate.fromWire(t.uriTemplate) !== undefined)).toEqual(
      [{ ...ITEM_TEMPLATE, uriTemplate: naming.uriTemplate.toWire(ITEM_TEMPLATE.uriTemplate) }],
    );
    expect(await read('fixture://text')).toEqual([
      { uri: uri('fixture://text'), mimeType: 'text/plain', text: FIXTURE_TEXT },
    ]);
    const blob = (await read('fixture://blob'))[0] as { uri: string; blob: string };
    expect(blob.uri).toBe(uri('fixture://blob'));
    expect(new Uint8Array(Buffer.from(blob.blob, 'base64'))).toEqual(BYTE_RAMP);
    expect(await read('fixture://items/42')).toEqual([
      { uri: uri('fixture://items/42'), mimeType: 'text/plain', text: 'item 42' },
    ]);
    const missing = await read('fixture://missing').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(McpError);
    expect(missing).toMatchObject({ code: -32002 });
    const done = await probe().client.complete({
      ref: { type: 'ref/resource', uri: naming.uriTemplate.toWire(ITEM_TEMPLATE.uriTemplate) },
      argument: { name: 'id', value: '4' },
    });
    expect(done.completion).toEqual({ values: ['42'], total: 1, hasMore: false });
  });

  it('prompts: lists, gets with arguments, embedded resources and images, completes arguments', async () => {
    const { prompts } = await probe().client.listPrompts();
    expect(
      fixtureNames(
        naming.prompt,
        prompts.map((p) => p.name),
      ),
    ).toEqual(['greet', 'with-resource', 'with-image']);
    const greet = await probe().client.getPrompt({
      name: naming.prompt.toWire('greet'),
      arguments: { name: 'Ada', style: 'pirate' },
    });
    expect(greet.messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'Greet Ada in a pirate style.' } },
    ]);
    await expect(
      probe().client.getPrompt({ name: naming.prompt.toWire('greet'), arguments: {} }),
    ).rejects.toMatchObject({ code: -32602 });
    const style = await probe().client.complete({
      ref: { type: 'ref/prompt', name: naming.prompt.toWire('greet') },
      argument: { name: 'style', value: 'p' },
    });
    expect(style.completion.values).toEqual(['pirate']);
    const embedded = await probe().client.getPrompt({ name: naming.prompt.toWire('with-resource') });
    expect(embedded.messages[0]?.content).toEqual({
      type: 'resource',
      resource: { uri: uri('fixture://text'), mimeType: 'text/plain', text: FIXTURE_TEXT },
    });
    const image = await probe().client.getPrompt({ name: naming.prompt.toWire('with-image') });
    expect(image.messages[0]?.content).toEqual({
      type: 'image',
      data: TINY_PNG_BASE64,
      mimeType: 'image/png',
    });
  });
}
