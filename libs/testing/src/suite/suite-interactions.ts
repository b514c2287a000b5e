/**
 * Feature-suite tests of the traffic around a call: progress, cancellation, requests to the client
 * (sampling, form and URL elicitation, roots) and logging.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { ELICIT_FORM_SCHEMA } from '../fixtures/index';
import { PROBE_FORM_ANSWER, PROBE_ROOTS } from './probe-client';
import { firstText, structured, waitUntil } from './probe-results';
import type { SuiteContext } from './suite-context';

/**
 * ELICIT_FORM_SCHEMA as a gateway bridging eras asks a 2025-06-18 client: no SEP-1330 titled enum (enum +
 * enumNames instead) and no SEP-1034 default but a boolean's (written into the description instead).
 */
const FORM_FOR_2025_06_18 = {
  type: 'object',
  properties: {
    color: {
      type: 'string',
      title: 'Colour',
      description: 'Pick a colour. Default: green (used when left empty).',
      enum: ['red', 'green', 'blue'],
    },
    size: {
      type: 'string',
      title: 'Size',
      enum: ['s', 'm', 'l'],
      enumNames: ['Small', 'Medium', 'Large'],
      description: 'Default: Medium (used when left empty).',
    },
    count: {
      type: 'integer',
      title: 'Count',
      minimum: 1,
      maximum: 10,
      description: 'Default: 3 (used when left empty).',
    },
    notify: { type: 'boolean', title: 'Notify me', default: true },
  },
  required: ['color'],
};

/** Registers the interaction tests. */
export function interactionTests({ opts, naming, probe, call }: SuiteContext): void {
  it("progress: notifications with messages on the request's own token", async () => {
    const progressToken = `progress-${randomUUID()}`;
    const result = await probe().client.callTool({
      name: naming.tool.toWire('progress'),
      arguments: { steps: 4, intervalMs: 5 },
      _meta: { progressToken },
    });
    expect(firstText(result)).toBe('sent 4 progress notifications');
    await waitUntil(
      () => probe().progressFor(progressToken).length === 4,
      5000,
      'four progress notifications',
    );
    expect(probe().progressFor(progressToken)).toEqual(
      [1, 2, 3, 4].map((n) => ({ progress: n, total: 4, message: `step ${n} of 4` })),
    );
    expect(firstText(await call('progress'))).toMatch(/no progressToken/);
  });

  it('cancellation: the server sees the abort of a cancelled call, and an uncancelled call completes', async () => {
    const tag = randomUUID();
    const outcome = async () => structured(await call('wasCancelled', { tag }))['outcome'];
    expect(await outcome()).toBe('unknown');
    const abort = new AbortController();
    const pending = probe().client.callTool(
      { name: naming.tool.toWire('slow'), arguments: { ms: 20_000, tag } },
      undefined,
      { signal: abort.signal },
    );
    await waitUntil(async () => (await outcome()) === 'running', 5000, 'slow to start');
    abort.abort('test cancels');
    await expect(pending).rejects.toThrow();
    await waitUntil(async () => (await outcome()) === 'cancelled', 5000, 'slow to see the abort');
    expect(firstText(await call('slow', { ms: 20, tag }))).toBe('completed after 20 ms');
    expect(await outcome()).toBe('completed');
  });

  it('client requests: sampling, form elicitation with enums and defaults, roots and roots/list_changed', async () => {
    expect(firstText(await call('sample', { prompt: 'say hi' }))).toBe('sampled: say hi');
    probe().elicitations.length = 0;
    expect(structured(await call('elicit'))).toEqual({ action: 'accept', content: PROBE_FORM_ANSWER });
    expect(probe().elicitations).toEqual([
      opts.eraBridged && opts.era < '2025-11-25'
        ? { message: 'Choose your options', requestedSchema: FORM_FOR_2025_06_18 }
        : { mode: 'form', message: 'Choose your options', requestedSchema: ELICIT_FORM_SCHEMA },
    ]);
    const before = structured(await call('roots'));
    expect(before['roots']).toEqual(PROBE_ROOTS);
    await probe().client.sendRootsListChanged();
    await waitUntil(
      async () =>
        structured(await call('roots'))['listChangedSeen'] === Number(before['listChangedSeen']) + 1,
      5000,
      'the server to see roots/list_changed',
    );
  });

  if (opts.era === '2025-11-25') {
    it('URL elicitation: the request reaches the client and elicitation/complete follows its acceptance', async () => {
      probe().elicitations.length = 0;
      const url = structured(await call('elicitUrl', { url: 'https://consent.example.org/x' }));
      expect(url).toMatchObject({ action: 'accept', url: 'https://consent.example.org/x' });
      expect(probe().elicitations).toEqual([
        {
          mode: 'url',
          message: 'Open the page to continue',
          elicitationId: url['elicitationId'],
          url: 'https://consent.example.org/x',
        },
      ]);
      const complete = await probe().waitFor(
        (n) =>
          n.method === 'notifications/elicitation/complete' &&
          n.params?.['elicitationId'] === url['elicitationId'],
      );
      expect(complete.params).toEqual({ elicitationId: url['elicitationId'] });
    });
  }

  it('logging: setLevel filters the notifications/message related to a request', async () => {
    const message = randomUUID();
    const levels = ['debug', 'info', 'warning', 'error'];
    await probe().client.setLoggingLevel('warning');
    expect(structured(await call('log', { levels, message }))).toEqual({
      sent: ['warning', 'error'],
      suppressed: ['debug', 'info'],
    });
    await probe().client.setLoggingLevel('debug');
    expect(structured(await call('log', { levels, message }))).toEqual({ sent: levels, suppressed: [] });
    const ours = () =>
      probe().notifications.filter(
        (n) =>
          n.method === 'notifications/message' &&
          (n.params?.['data'] as { message?: string } | undefined)?.message === message,
      );
    await waitUntil(() => ours().length === 6, 5000, 'six log messages');
    expect(ours().map((n) => n.params?.['level'])).toEqual(['warning', 'error', ...levels]);
    expect(ours()[0]?.params).toEqual({
      level: 'warning',
      logger: 'meshgate-fixture',
      data: { message, level: 'warning' },
    });
  });
}
