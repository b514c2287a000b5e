/**
 * The connection pool once the replica stopped: a late request for a connection (a definition change that
 * finished closing after stop) must not start an upstream nobody will ever stop.
 */
import { describe, expect, it } from 'vitest';
import { ServerDefinition } from '@meshgate/contracts';
import { ConnectionPool } from '../../src/upstream/pool';
import type { UpstreamConnection } from '../../src/upstream/connection';

describe('ConnectionPool', () => {
  it('starts no connection after closeAll', async () => {
    let created = 0;
    const pool = new ConnectionPool(
      (def) =>
        (created++, { server: def.name, stop: () => Promise.resolve() }) as unknown as UpstreamConnection,
    );
    const shared = ServerDefinition.parse({ name: 'shared', transport: 'stdio', command: 'x' });
    const own = ServerDefinition.parse({ name: 'own', transport: 'stdio', command: 'x', stateful: true });
    pool.sharedFor(shared);
    expect(created).toBe(1);
    await pool.closeAll();
    expect(() => pool.sharedFor(shared)).toThrow(/closed/);
    expect(() => pool.connectionFor(own, 'session-1')).toThrow(/closed/);
    expect(created).toBe(1);
  });
});
