/**
 * The probe's era pinning: the initialize request carries the era asked for, the probe declares that era's
 * client capabilities, and a server that answers another protocol version is refused.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { isJSONRPCRequest, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { connectProbe, createFeatureServer, ERAS, PROBE_CAPABILITIES, type Era } from '../src/index';

/** A linked pair whose server side answers initialize with `answer` and records what it was asked. */
function scriptedServer(answer: string): { client: InMemoryTransport; asked: JSONRPCRequest[] } {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const asked: JSONRPCRequest[] = [];
  server.onmessage = (message) => {
    if (!isJSONRPCRequest(message) || message.method !== 'initialize') return;
    asked.push(message);
    void server.send({
      jsonrpc: '2.0',
      id: message.id,
      result: { protocolVersion: answer, capabilities: {}, serverInfo: { name: 'scripted', version: '1' } },
    });
  };
  void server.start();
  return { client, asked };
}

describe('connectProbe', () => {
  it.each(ERAS)(
    'asks for %s with that era’s client capabilities and gets it from the fixture',
    async (era: Era) => {
      const { client, asked } = scriptedServer(era);
      const probe = await connectProbe(client, { era });
      expect(asked[0]?.params).toMatchObject({ protocolVersion: era, capabilities: PROBE_CAPABILITIES[era] });
      expect(probe.protocolVersion).toBe(era);
      await probe.close();

      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await createFeatureServer().connect(serverSide);
      const real = await connectProbe(clientSide, { era });
      expect(real.protocolVersion).toBe(era);
      await real.close();
    },
  );

  it('refuses a server that answers another protocol version', async () => {
    const { client } = scriptedServer('2025-03-26');
    await expect(connectProbe(client, { era: '2025-06-18' })).rejects.toThrow(
      'asked for protocol 2025-06-18 in initialize, the server answered 2025-03-26',
    );
  });
});
