/**
 * The stdio transport against hostile children: a line that never ends and an input the child never reads
 * must not grow the router's memory without bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { StdioServer } from '@meshgate/contracts';
import { MaxLineBytes, MaxUnreadInputBytes, StdioTransport } from '../../src/upstream/stdio-transport';
import { eventually } from '../harness';

const log = pino({ level: 'silent' });
const open: StdioTransport[] = [];

function child(script: string) {
  const closed: string[] = [];
  const def = StdioServer.parse({
    name: 'hostile',
    transport: 'stdio',
    command: process.execPath,
    args: ['-e', script],
  });
  const transport = new StdioTransport(def, { message: () => undefined, closed: (r) => closed.push(r) }, log);
  open.push(transport);
  return { transport, closed };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('StdioTransport', () => {
  it('gives up on a child whose output line never ends', async () => {
    const { transport, closed } = child(
      `process.stdout.write(Buffer.alloc(${MaxLineBytes + 1024 * 1024}, 120)); setInterval(() => {}, 1000);`,
    );
    await transport.start();
    const reason = await eventually(() => closed[0], 8000);
    expect(reason).toMatch(/longer than/);
  });

  it('refuses to queue more input for a child that does not read it', async () => {
    const { transport } = child('setInterval(() => {}, 1000);');
    await transport.start();
    const big = {
      jsonrpc: '2.0' as const,
      method: 'notifications/x',
      params: { pad: 'x'.repeat(1024 * 1024) },
    };
    const outcomes: Promise<string>[] = [];
    for (let i = 0; i * 1024 * 1024 <= MaxUnreadInputBytes + 2 * 1024 * 1024; i++)
      outcomes.push(
        transport.send(big).then(
          () => 'sent',
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
      );
    const last = await Promise.race([
      outcomes.at(-1)!,
      new Promise<string>((r) => setTimeout(() => r('still pending'), 1000)),
    ]);
    expect(last).toMatch(/not reading/);
  });
});
