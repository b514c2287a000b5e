import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Svcm } from '@nats-io/services';
import { Bus } from '../src/bus';
import { serve, type RunningService } from '../src/service';
import { BusError, CallerFault, SystemFault, sanitizeDescription } from '../src/errors';
import { DeadlineHeader, childTraceparent, newTraceparent, readContext } from '../src/context';
import { headers } from '@nats-io/nats-core';
import { spawnNats } from '@meshgate/testing';

/** Resolves with the BusError a request rejects with; fails the test if it resolves. */
async function failure(p: Promise<unknown>): Promise<BusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BusError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

const Echo = z.object({ text: z.string().max(10) });
const EchoReply = z.object({ text: z.string(), deadlineLeftMs: z.number(), traceparent: z.string() });

describe('bus over a real NATS', () => {
  let bus: Bus;
  let svc: RunningService;
  const base = `mg.v1.test-${process.pid}-${Date.now()}`;
  const faults: unknown[] = [];

  beforeAll(async () => {
    bus = await Bus.connect({ url: process.env['NATS_URL']!, name: 'bus-test' });
    svc = await serve(
      bus,
      {
        name: 'meshgate-bus-test',
        version: '0.1.0',
        description: 'bus test',
        onError: (e) => faults.push(e),
      },
      [
        {
          name: 'echo',
          subject: `${base}.echo`,
          queue: 'q',
          request: Echo,
          handler: async (p, ctx) => ({
            text: p.text,
            deadlineLeftMs: ctx.deadline - Date.now(),
            traceparent: ctx.traceparent,
          }),
        },
        {
          name: 'fail',
          subject: `${base}.fail`,
          queue: 'q',
          request: z.object({ kind: z.enum(['caller', 'system', 'crash']) }),
          handler: async (p) => {
            if (p.kind === 'caller') throw new CallerFault('bad thing\nwith a second line', 404);
            if (p.kind === 'system') throw new SystemFault('disk on fire');
            throw new TypeError('secret internal detail');
          },
        },
        {
          name: 'slow',
          subject: `${base}.slow`,
          queue: 'q',
          request: z.object({}),
          handler: () => new Promise((r) => setTimeout(() => r({}), 300)),
        },
      ],
    );
  });

  afterAll(async () => {
    await svc.stop();
    await bus.close();
  });

  it('round-trips a validated payload with deadline and trace context', async () => {
    const tp = newTraceparent();
    const reply = await bus.request(`${base}.echo`, { text: 'hi' }, EchoReply, {
      timeoutMs: 2_000,
      traceparent: tp,
    });
    expect(reply.text).toBe('hi');
    expect(reply.traceparent).toBe(tp);
    expect(reply.deadlineLeftMs).toBeGreaterThan(1_000);
    expect(reply.deadlineLeftMs).toBeLessThanOrEqual(2_000);
  });

  it('answers an invalid payload with a 400 caller fault naming the field', async () => {
    const err = await failure(bus.request(`${base}.echo`, { text: 'far too long text' }, EchoReply));
    expect(err).toBeInstanceOf(BusError);
    expect(err.code).toBe(400);
    expect(err.message).toContain('text');
  });

  it('carries caller and system fault codes; hides the detail of unexpected errors', async () => {
    const caller = await failure(bus.request(`${base}.fail`, { kind: 'caller' }, z.unknown()));
    expect(caller.code).toBe(404);
    expect(caller.message).toBe('bad thing with a second line');
    const system = await failure(bus.request(`${base}.fail`, { kind: 'system' }, z.unknown()));
    expect(system.code).toBe(500);
    const crash = await failure(bus.request(`${base}.fail`, { kind: 'crash' }, z.unknown()));
    expect(crash.code).toBe(500);
    expect(crash.message).toBe('internal error');
    expect(faults.some((f) => f instanceof TypeError)).toBe(true);
  });

  it('maps no responders to 503 and a missed deadline to 504', async () => {
    const none = await failure(bus.request(`${base}.nobody`, {}, z.unknown()));
    expect(none.code).toBe(503);
    const late = await failure(bus.request(`${base}.slow`, {}, z.unknown(), { timeoutMs: 50 }));
    expect(late.code).toBe(504);
  });

  it('refuses a message over the NATS max_payload as a 413 caller fault, not as an unavailable service', async () => {
    const huge = 'x'.repeat(bus.nc.info!.max_payload + 1);
    const err = await failure(bus.request(`${base}.echo`, { text: huge }, EchoReply));
    expect(err.code).toBe(413);
    expect(err.isCallerFault).toBe(true);
  });

  it('registers endpoints with the services framework under the queue group', async () => {
    const client = new Svcm(bus.nc).client();
    const infos = [];
    for await (const info of await client.info('meshgate-bus-test')) infos.push(info);
    expect(infos.length).toBeGreaterThanOrEqual(1);
    const eps = infos[0]!.endpoints.map((e) => [e.name, e.queue_group]);
    expect(eps).toEqual(
      expect.arrayContaining([
        ['echo', 'q'],
        ['fail', 'q'],
        ['slow', 'q'],
      ]),
    );
  });
});

describe('call context', () => {
  it('derives a child span of the same trace', () => {
    const parent = newTraceparent();
    const child = childTraceparent(parent);
    expect(child.slice(0, 36)).toBe(parent.slice(0, 36));
    expect(child).not.toBe(parent);
    expect(childTraceparent('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('bounds hostile deadlines and fills in missing ones', () => {
    const h = headers();
    h.set(DeadlineHeader, String(Date.now() + 10 * 3_600_000));
    expect(readContext(h, 1000).deadline - Date.now()).toBeLessThanOrEqual(3_600_000);
    h.set(DeadlineHeader, 'not-a-number');
    const ctx = readContext(h, 1000);
    expect(ctx.deadline - Date.now()).toBeLessThanOrEqual(1000);
    expect(ctx.deadline - Date.now()).toBeGreaterThan(900);
  });

  it('keeps header descriptions to one printable line', () => {
    expect(sanitizeDescription('a\r\nb\tc')).toBe('a b c');
    expect(sanitizeDescription('x'.repeat(500)).length).toBeLessThanOrEqual(200);
    expect(sanitizeDescription('é')).toBe('?');
  });
});

describe('a lost connection', () => {
  it('fails the requests in flight at once instead of leaving them to their deadline', async () => {
    const nats = await spawnNats();
    const bus = await Bus.connect({ url: nats.url, name: 'bus-lost-test' });
    try {
      // A responder that takes the request and never answers.
      const silent = bus.nc.subscribe('mg.v1.test.silent');
      await bus.nc.flush();
      const started = Date.now();
      const pending = failure(bus.request('mg.v1.test.silent', {}, z.object({}), { timeoutMs: 60_000 }));
      await new Promise((r) => setTimeout(r, 100));
      await nats.stop();
      const err = await pending;
      expect(err.code).toBe(503);
      expect(err.message).toMatch(/connection was lost/);
      expect(Date.now() - started).toBeLessThan(10_000);
      silent.unsubscribe();
    } finally {
      await bus.nc.close();
      await nats.stop();
    }
  });
});
