/**
 * The feature fixture over the legacy HTTP+SSE transport: the shared suite, sessions and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  ERAS,
  connectProbe,
  featureSuite,
  perServerNaming,
  startFeatureServerSse,
  structured,
  waitUntil,
  type Era,
  type FeatureSseServer,
} from '../src/index';

describe('feature fixture over legacy HTTP+SSE', () => {
  let fixture: FeatureSseServer;
  beforeAll(async () => {
    fixture = await startFeatureServerSse();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  const connect = (era?: Era) => connectProbe(new SSEClientTransport(new URL(fixture.url)), { era });

  it('keeps one session per SSE stream and forgets it when the stream closes', async () => {
    const before = fixture.openSessions();
    const probe = await connect();
    expect(fixture.openSessions()).toBe(before + 1);
    expect(
      structured(await probe.client.callTool({ name: 'pollResume', arguments: { pauseMs: 0 } })),
    ).toEqual({ streamClosed: false });
    await probe.close();
    await waitUntil(() => fixture.openSessions() === before, 5000, 'the session to close');
  });

  it('answers unknown sessions and paths with 404', async () => {
    const base = fixture.url.replace('/sse', '');
    const post = await fetch(`${base}/messages?sessionId=nope`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(404);
    expect(await post.json()).toMatchObject({ error: { code: -32001 } });
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });

  // The suites run last: a closed SSE probe keeps its session until the server sees the stream end, which
  // would skew the session counts above.
  for (const era of ERAS) {
    describe(`feature suite, protocol ${era}`, () => {
      featureSuite(connect, { naming: perServerNaming, era });
    });
  }
});
