/**
 * The SSE event log on the shared test NATS: a replay whose agent is already gone (the stream's close came
 * while the replay was still setting up its consumer) ends at once instead of following until its deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '@meshgate/bus';
import { createLogger } from '@meshgate/config';
import { openEventLog, type EventLog } from '../src/event-log';
import { newStreamId } from '../src/event-id';
import { newSessionId } from '../src/session-store';
import { testConfig } from './harness';

let bus: Bus;
let events: EventLog;

beforeAll(async () => {
  const config = testConfig(process.env['NATS_URL']!);
  bus = await Bus.connect({ url: config.natsUrl, name: 'ingress-event-log-test' });
  events = await openEventLog(bus, {
    logger: createLogger('ingress-test', 'silent', 'event-log'),
    maxAgeS: config.eventsMaxAgeS,
    maxPerStream: config.eventsMaxPerStream,
    maxBytes: config.eventsMaxBytes,
  });
});

afterAll(async () => {
  await bus?.close();
});

describe('event log replay', () => {
  it('returns at once when its signal was aborted before the replay started', async () => {
    const sid = newSessionId();
    const streamId = newStreamId();
    events.append(sid, streamId, { v: 1, kind: 'post', seq: 0, message: null, final: false });
    await bus.nc.flush();
    const started = Date.now();
    const result = await events.replay(sid, streamId, {
      afterSeq: 0,
      follow: true,
      until: Date.now() + 5000,
      signal: AbortSignal.abort(),
      onEvent: () => undefined,
    });
    expect(result).toEqual({ lastSeq: 0, final: false });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
