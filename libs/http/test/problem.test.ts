/**
 * The shared problem details through a real Fastify app: thrown HttpProblems keep their status, headers and
 * extensions; an API's own errors map through its `domain`; Fastify's client errors stay 4xx; NATS faults are
 * a 503 naming what cannot be reached; anything else is a bare 500 that leaks nothing; unknown routes 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { errors as natsErrors } from '@nats-io/nats-core';
import { HttpProblem, installProblemHandling } from '../src/index';

class Mine extends Error {}

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false });
  installProblemHandling(app, {
    domain: (err) => (err instanceof Mine ? new HttpProblem(409, 'mine') : undefined),
    unreachable: 'the test store',
  });
  app.get('/problem', () => {
    throw new HttpProblem(403, 'not yours', { scope: 'tools' }, { 'www-authenticate': 'Bearer' });
  });
  app.get('/mine', () => {
    throw new Mine('x');
  });
  app.get('/nats', () => {
    throw new natsErrors.TimeoutError();
  });
  app.get('/secret', () => {
    throw new Error('password=hunter2 at db:5432');
  });
  app.post('/json', (request) => request.body);
  await app.ready();
});
afterAll(() => app.close());

const problemOf = async (method: 'GET' | 'POST', url: string, payload?: string) => {
  const res = await app.inject(
    payload === undefined
      ? { method, url }
      : { method, url, payload, headers: { 'content-type': 'application/json' } },
  );
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  return { res, body: res.json<Record<string, unknown>>() };
};

describe('problem details', () => {
  it('answers a thrown HttpProblem with its status, extensions and headers', async () => {
    const { res, body } = await problemOf('GET', '/problem');
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'not yours',
      instance: '/problem',
      scope: 'tools',
    });
  });

  it("maps the API's own errors, NATS faults (503 with retry-after) and hides everything else", async () => {
    expect((await problemOf('GET', '/mine')).body).toMatchObject({ status: 409, detail: 'mine' });
    const nats = await problemOf('GET', '/nats');
    expect(nats.res.headers['retry-after']).toBe('5');
    expect(nats.body).toMatchObject({ status: 503, detail: 'the test store cannot be reached; retry later' });
    const secret = await problemOf('GET', '/secret');
    expect(secret.body).toMatchObject({ status: 500, detail: 'internal error' });
    expect(JSON.stringify(secret.body)).not.toContain('hunter2');
  });

  it("keeps Fastify's client errors 4xx, answers unknown routes 404, and bounds long details", async () => {
    expect((await problemOf('POST', '/json', '{ nope')).body).toMatchObject({ status: 400 });
    const long = `/${'x'.repeat(1000)}`;
    const missing = await problemOf('GET', long);
    expect(missing.res.statusCode).toBe(404);
    expect(String(missing.body['detail']).length).toBeLessThanOrEqual(300);
    expect(String(missing.body['instance']).length).toBeLessThanOrEqual(300);
  });
});
