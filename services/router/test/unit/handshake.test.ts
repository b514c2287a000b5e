/**
 * The initialize handshake must end within its time limit at every step, so that a connection attempt
 * stuck on an upstream that never acknowledges notifications/initialized is retried, not left hanging.
 */
import { describe, expect, it } from 'vitest';
import { handshake } from '../../src/upstream/handshake';
import type { UpstreamTransport } from '../../src/upstream/transport';

describe('handshake', () => {
  it('gives up when the upstream never accepts notifications/initialized', async () => {
    const transport: UpstreamTransport = {
      start: () => Promise.resolve(),
      send: () => new Promise<void>(() => undefined),
      initialized: () => undefined,
      close: () => Promise.resolve(),
    };
    const exchange = () => Promise.resolve({ result: { protocolVersion: '2025-11-25', capabilities: {} } });
    const outcome = await Promise.race([
      handshake(transport, exchange, 100, '1.0.0').then(
        () => 'ready',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
      new Promise<string>((r) => setTimeout(() => r('still waiting'), 1000)),
    ]);
    expect(outcome).toMatch(/notifications\/initialized/);
  });
});
