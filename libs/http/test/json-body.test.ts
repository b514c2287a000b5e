/** The shared JSON body parser of the admin APIs, over Fastify inject: what it accepts and each refusal. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { HttpProblem, installJsonBody } from '../src/index';

async function app() {
  const a = Fastify();
  a.setErrorHandler((err, _rq, reply) =>
    err instanceof HttpProblem
      ? reply.code(err.status).send({ detail: err.detail })
      : reply.code((err as { statusCode?: number }).statusCode ?? 500).send({ detail: String(err) }),
  );
  await a.register(async (scope) => {
    installJsonBody(scope, 64);
    scope.post('/', async (request) => ({ body: request.body ?? null }));
  });
  return a;
}

const post = async (payload: string | Buffer, type = 'application/json') =>
  (await app()).inject({ method: 'POST', url: '/', payload, headers: { 'content-type': type } });

describe('installJsonBody', () => {
  it('parses JSON, and an empty body as nothing', async () => {
    expect((await post('{"a":1}')).json()).toEqual({ body: { a: 1 } });
    expect((await post('  ')).json()).toEqual({ body: null });
  });

  it('refuses bad UTF-8, bad JSON, other types and oversize bodies', async () => {
    const binary = await post(Buffer.from([0x7b, 0xff, 0x7d]));
    expect([binary.statusCode, binary.json().detail]).toEqual([400, 'the body is not valid UTF-8']);
    const bad = await post('{a:1}');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/^the body is not JSON: /);
    expect((await post('{"a":1}', 'text/plain')).statusCode).toBe(415);
    expect((await post(`{"a":"${'x'.repeat(100)}"}`)).statusCode).toBe(413);
  });
});
