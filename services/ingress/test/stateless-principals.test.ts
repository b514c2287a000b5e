/**
 * 2026-07-28 agents with authentication on (API keys): each principal has virtual sessions of its own, a
 * requestState is honoured only for the principal it was issued to (on any replica), and a request without
 * credentials is refused before anything else. The NATS is spawned for this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, type IssuedKey } from '@meshgate/auth';
import { Buckets, ErrorCodes } from '@meshgate/contracts';
import { modernPost, modernRequest, startModernStack, type ModernStack } from './modern-harness';

let stack: ModernStack;
let ada: IssuedKey;
let bob: IssuedKey;

beforeAll(async () => {
  stack = await startModernStack([{ MESHGATE_AUTH: 'on' }, { MESHGATE_AUTH: 'on' }]);
  const store = await ApiKeyStore.open(stack.bus.nc, { bucket: Buckets.apiKeys });
  ada = await store.create({ tenant: 'acme', principal: 'ada', kind: 'agent', roles: ['agent'] });
  bob = await store.create({ tenant: 'acme', principal: 'bob', kind: 'agent', roles: ['agent'] });
  // Both replicas must know both keys (the verifier follows the key bucket by a watch).
  for (const replica of [0, 1])
    for (const key of [ada, bob]) {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const res = await modernPost(stack.url(replica), modernRequest(0, 'server/discover'), bearer(key));
        status = res.status;
        await res.body?.cancel();
        if (status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(200);
    }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const bearer = (key: IssuedKey) => ({ authorization: `Bearer ${key.apiKey}` });

describe('principals of 2026-07-28 agents', () => {
  it('refuses a request without credentials with 401', async () => {
    const res = await modernPost(stack.url(0), modernRequest(1, 'tools/list'));
    expect(res.status).toBe(401);
  });

  it('gives each principal its own virtual session, carrying its principal', async () => {
    for (const key of [ada, bob]) {
      const res = await modernPost(stack.url(0), modernRequest(2, 'tools/list'), bearer(key));
      expect(res.status).toBe(200);
      await res.json();
    }
    const lists = stack.router.calls.filter((c) => c.message.method === 'tools/list').slice(-2);
    expect(lists.map((c) => c.session.principal.id)).toEqual(['ada', 'bob']);
    expect(lists[0]!.session.id).not.toBe(lists[1]!.session.id);
  });

  it('honours a requestState only for the principal it was issued to', async () => {
    const first = await modernPost(
      stack.url(0),
      modernRequest(3, 'tools/call', { name: 'sample', arguments: {} }),
      bearer(ada),
    );
    const { result } = (await first.json()) as { result: { requestState: string } };
    const answer = { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
    const retry = (key: IssuedKey, replica: number, id: number) =>
      modernPost(
        stack.url(replica),
        modernRequest(id, 'tools/call', {
          name: 'sample',
          arguments: {},
          inputResponses: { 'sampling-1': answer },
          requestState: result.requestState,
        }),
        bearer(key),
      );
    expect(await (await retry(bob, 1, 4)).json()).toMatchObject({
      id: 4,
      error: { code: ErrorCodes.InvalidParams, message: expect.stringContaining('another principal') },
    });
    expect(await (await retry(ada, 1, 5)).json()).toMatchObject({
      id: 5,
      result: { resultType: 'complete' },
    });
  });
});
